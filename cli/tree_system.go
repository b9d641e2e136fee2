package cli

// Value types of the system view and its sub-views.
var (
	sysnameValue   = textWithSpaces(1, 64)
	hostnameValue  = text(1, 253, validHostname)
	userNameValue  = text(1, 55, validUserName)
	portValue      = intRange(1, 65535)
	intervalValue  = intRange(10, 3600)
	retriesValue   = intRange(1, 5)
	authTimeValue  = intRange(1, 120)
	vtyNumberValue = intRange(0, 63)
	unbindValue    = text(1, 64, nil)
	passwordValue  = text(1, 63, nil)
	hashValue      = text(1, 255, nil)
	idleMinValue   = intRange(0, 35791)
	idleSecValue   = intRange(0, 59)
	vlanValue      = intRange(1, 4094)
	screenLenValue = intRange(0, 512)
	keyTypeValue   = text(1, 64, validKeyType)
	keyDataValue   = text(1, 8192, nil)
	keyCommentText = text(1, 255, nil)
)

func systemCommands() []*node {
	return []*node{
		archiveSystemCommand(), replaceCommand(),
		aclCommand(runACL), // cmd_acl.go
		cloudCommand(),
		kw("dns", "Domain Name System (DNS) module",
			kw("server", "Specify a DNS server",
				val("addr", ipv4Addr, "IP address").does(runDNSServer))),
		kw("interface", "Specify the interface",
			&node{keyword: "Vlan-interface", help: "VLAN interface", splitNumber: true, next: []*node{
				val("vlan", vlanValue, "Vlan-interface interface number").does(runInterfaceVlan)}}),
		infoCenterCommand(),
		kw("ip", "Specify IP configuration",
			kw("host", "Add a static host name to IP address mapping",
				val("name", hostnameValue, "Host name",
					val("addr", ipv4Addr, "IP address").does(runIPHost))),
			routeStaticCommand(false)), // cmd_network.go
		kw("line", "Specify the line",
			lineClassCommand(), lineConCommand(), // cmd_lines.go
			kw("vty", "Virtual type terminal (VTY) line",
				val("first", vtyNumberValue, "Number of the first line",
					val("last", vtyNumberValue, "Number of the last line").does(runLineVTY)).does(runLineVTY))),
		kw("local-user", "Add a local user",
			val("user", userNameValue, "Local user name", classManage(runLocalUser)).does(runLocalUser)),
		kw("ssh", "Specify SSH (secure shell) configuration information", kw("server", "Specify the server attribute",
			kw("authentication-retries", "Specify the maximum number of authentication attempts",
				val("n", retriesValue, "Maximum number of authentication attempts").does(runSSHRetries)),
			kw("authentication-timeout", "Specify the authentication timeout",
				val("n", authTimeValue, "Authentication timeout in seconds").does(runSSHTimeout)),
			kw("enable", "Enable the SSH server").does(runSSHEnable),
			sshServerACL(true))),
		ssh2Command(), // cmd_ssh2.go
		kw("sysname", "Specify the host name",
			val("name", sysnameValue, "Host name").does(runSysname)),
		systemUndo(),
	}
}

// classManage is the optional `class manage` after a local user's name.
func classManage(h handler) *node {
	return kw("class", "Specify the user class",
		kw("manage", "Device management user").does(h))
}

func cloudCommand() *node {
	interval := func(word, help string, h handler) *node {
		return kw(word, help, val("n", intervalValue, help+" in seconds").does(h))
	}
	return kw("cloud-management", "Cloud management configuration",
		kw("backup-server", "Specify a backup cloud server",
			kw("domain", "Specify the domain name of the backup cloud server",
				val("domain", hostnameValue, "Domain name",
					kw("port", "Specify the port number of the backup cloud server",
						val("port", portValue, "Port number").does(runCloudBackup))).does(runCloudBackup))),
		interval("keepalive", "Keepalive interval", runCloudKeepalive),
		interval("ping", "Ping interval", runCloudPing),
		kw("server", "Specify the cloud server",
			kw("domain", "Specify the domain name of the cloud server",
				val("domain", hostnameValue, "Domain name").does(runCloudDomain)),
			kw("port", "Specify the port number of the cloud server",
				val("port", portValue, "Port number").does(runCloudPort))),
		kw("unbinding-code", "Send an unbinding code to the cloud server",
			&node{value: unbindValue, name: "code", help: "Unbinding code", secret: true, run: runCloudUnbind}),
	)
}

func systemUndo() *node {
	return kw("undo", "Cancel current setting",
		archiveUndoCommand(),
		aclCommand(runUndoACL), // cmd_acl.go
		kw("cloud-management", "Cloud management configuration",
			kw("backup-server", "Specify a backup cloud server",
				kw("domain", "Specify the domain name of the backup cloud server",
					val("domain", hostnameValue, "Domain name").does(runUndoCloudBackup)).does(runUndoCloudBackup)),
			kw("keepalive", "Keepalive interval").does(runUndoCloudKeepalive),
			kw("ping", "Ping interval").does(runUndoCloudPing),
			kw("server", "Specify the cloud server",
				kw("domain", "Specify the domain name of the cloud server").does(runUndoCloudDomain),
				kw("port", "Specify the port number of the cloud server").does(runUndoCloudPort))),
		kw("dns", "Domain Name System (DNS) module",
			kw("server", "Specify a DNS server",
				val("addr", ipv4Addr, "IP address").does(runUndoDNSServer))),
		undoInfoCenterCommand(),
		kw("ip", "Specify IP configuration",
			kw("host", "Add a static host name to IP address mapping",
				val("name", hostnameValue, "Host name",
					val("addr", ipv4Addr, "IP address").does(runUndoIPHost)).does(runUndoIPHost)),
			routeStaticCommand(true)), // cmd_network.go
		kw("local-user", "Add a local user",
			val("user", userNameValue, "Local user name", classManage(runUndoLocalUser)).does(runUndoLocalUser)),
		kw("ssh", "Specify SSH (secure shell) configuration information", kw("server", "Specify the server attribute",
			kw("authentication-retries", "Specify the maximum number of authentication attempts").does(runUndoSSHRetries),
			kw("authentication-timeout", "Specify the authentication timeout").does(runUndoSSHTimeout),
			kw("enable", "Enable the SSH server").does(runUndoSSHEnable),
			sshServerACL(false))),
		undoSSH2Command(), // cmd_ssh2.go
		kw("sysname", "Specify the host name").does(runUndoSysname),
	)
}

func vlanInterfaceCommands() []*node {
	// cmd_network.go
	return []*node{ipAddressCommand(false), kw("undo", "Cancel current setting", ipAddressCommand(true))}
}

func lineCommands() []*node {
	roleChoice := func(h handler) []*node {
		return []*node{
			(&node{keyword: "network-admin", name: "role", help: "Network administrator"}).does(h),
			(&node{keyword: "network-operator", name: "role", help: "Network operator"}).does(h),
		}
	}
	mode := func(word, help string) *node {
		return (&node{keyword: word, name: "mode", help: help}).does(runAuthMode)
	}
	return []*node{
		kw("authentication-mode", "Specify the authentication mode",
			mode("none", "Login without authentication"),
			mode("password", "Password authentication"),
			mode("scheme", "Authentication use AAA")),
		kw("idle-timeout", "Specify the idle-timeout value",
			val("min", idleMinValue, "Idle-timeout in minutes",
				val("sec", idleSecValue, "Idle-timeout in seconds").does(runIdleTimeout)).does(runIdleTimeout)),
		kw("screen-length", "Specify the lines displayed on one screen",
			val("lines", screenLenValue, "Number of lines on a screen, 0 to disable multiple-screen output").does(runScreenLength)),
		kw("user-role", "Specify a user role", roleChoice(runLineRole)...),
		kw("undo", "Cancel current setting",
			kw("authentication-mode", "Specify the authentication mode").does(runUndoAuthMode),
			kw("idle-timeout", "Specify the idle-timeout value").does(runUndoIdleTimeout),
			kw("screen-length", "Specify the lines displayed on one screen").does(runUndoScreenLengthLines),
			kw("user-role", "Specify a user role", roleChoice(runUndoLineRole)...).does(runUndoLineRole)),
	}
}

func localUserCommands() []*node {
	role := func(h handler) *node {
		return kw("authorization-attribute", "Specify the authorization attributes",
			kw("user-role", "Specify a user role",
				(&node{keyword: "network-admin", name: "role", help: "Network administrator"}).does(h),
				(&node{keyword: "network-operator", name: "role", help: "Network operator"}).does(h)))
	}
	undoRole := role(runUndoUserRole)
	undoRole.next[0].run = runUndoUserRole
	service := func(h handler) *node {
		return kw("service-type", "Specify the user service types", kw("ssh", "Secure Shell service").does(h))
	}
	return []*node{
		role(runUserRole),
		kw("password", "Specify the password of the local user",
			kw("hash", "Specify a hashed password",
				val("hash", hashValue, "Hashed password").does(runPasswordHash)),
			kw("simple", "Specify a plaintext password",
				&node{value: passwordValue, name: "password", help: "Plaintext password", secret: true, run: runPasswordSimple})),
		publicKey(runPublicKey),
		service(runServiceSSH),
		twoFactorCommand(), // cmd_twofactor.go
		kw("undo", "Cancel current setting", undoRole,
			kw("password", "Specify the password of the local user").does(runUndoPassword),
			publicKey(runUndoPublicKey).does(runUndoPublicKey),
			service(runUndoServiceSSH),
			undoTwoFactorCommand()), // cmd_twofactor.go
	}
}

// publicKey is `public-key TYPE DATA [COMMENT]`: an SSH authorized key in
// OpenSSH one-line form (ours: Comware's public-key peer views do not fit
// a model that keeps keys with the user).
func publicKey(h handler) *node {
	comment := &node{value: keyCommentText, name: "comment", help: "Key comment", rest: true, run: h}
	return kw("public-key", "Specify an SSH public key of the local user",
		val("type", keyTypeValue, "Key type, such as ssh-ed25519 or ssh-rsa",
			val("data", keyDataValue, "Base64-encoded key", comment).does(h)))
}
