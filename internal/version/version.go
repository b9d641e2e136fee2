// Package version holds the software version, set at build time.
package version

// Version is set by the Makefile with -ldflags -X.
var Version = "dev"

// Model is the device model netdevd presents.
const Model = "NETDEVD-1000"
