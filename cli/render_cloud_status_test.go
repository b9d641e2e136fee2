package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/netdevd/netdevd/internal/device"
)

// TestCloudManagementStateMatchesSpecLayout checks the exact layout of the spec's example
// of `display cloud-management state`, field by field.
func TestCloudManagementStateMatchesSpecLayout(t *testing.T) {
	at := time.Date(2018, 1, 27, 14, 18, 40, 0, time.UTC)
	s := device.CloudStatus{
		ConnState: "Established", DeviceState: "Request_success", ServerAddress: "139.217.27.153",
		ServerDomain: "oasis.example.com", Mode: "Https", ServerPort: 19443, ConnectedAt: at,
		ProcessState: "Message received", LastDownReason: "socket connection error (Details:N/A)",
		LastDownAt: at.Add(-time.Hour), TotalDropped: 1, Now: at.Add(121 * time.Second),
	}
	want := `Cloud connection state   : Established
Device state             : Request_success
Cloud server address     : 139.217.27.153
Cloud server domain name : oasis.example.com
Cloud connection mode    : Https
Cloud server port        : 19443
Connected at             : Sat Jan 27 14:18:40 2018
Duration                 : 00d 00h 02m 01s
Process state            : Message received
Failure reason           : N/A
Last down reason         : socket connection error (Details:N/A)
Last down at             : Sat Jan 27 13:18:40 2018
Last report failure reason : N/A
Last report failure at   : N/A
Dropped packets after reaching buffer limit : 0
Total dropped packets    : 1
Last report incomplete reason : N/A
Last report incomplete at : N/A
Buffer full count        : 0
`
	got := CloudManagementState(s, time.UTC)
	if got != want {
		gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
		for i := range wl {
			if i >= len(gl) || gl[i] != wl[i] {
				t.Fatalf("line %d:\n got %q\nwant %q", i+1, at1(gl, i), wl[i])
			}
		}
		t.Fatalf("got extra lines:\n%s", got)
	}
}

func at1(l []string, i int) string {
	if i < len(l) {
		return l[i]
	}
	return "<missing>"
}

func TestCloudManagementStateNotEstablishedHasNoDuration(t *testing.T) {
	s := device.CloudStatus{ConnState: "Waiting", ConnectedAt: time.Now(), Now: time.Now(), InsecureTLS: true}
	out := CloudManagementState(s, time.UTC)
	if !strings.Contains(out, "Duration                 : N/A\n") {
		t.Fatalf("duration shown while not established:\n%s", out)
	}
	if !strings.Contains(out, "Certificate verification : Disabled by operator\n") {
		t.Fatalf("insecure TLS not shown:\n%s", out)
	}
}
