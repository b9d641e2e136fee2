package cloudmgmt

import (
	"encoding/json"
	"testing"

	"github.com/netdevd/netdevd/cloudmgmt/wire"
)

// FuzzDecodeFrame: the device's decoder never panics, accepts only known
// types with their required fields, and what it accepts re-encodes.
func FuzzDecodeFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"keepalive-ack","seq":1}`,
		`{"type":"subconn-urls","urls":{"log":"wss://h:1/cloud/v1/sub/log/x"}}`,
		`{"type":"exec","id":"e1","lines":["display version"]}`,
		`{"type":"exec","id":7,"lines":[]}`,
		`{"type":"reregister"}`,
		`{"type":"report-ack","seq":18446744073709551615}`,
		`{"type":"keepalive-ack","seq":-1}`,
		`{"type":"nope"}`, `[]`, `null`, `{"type":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := decodeFrame(b)
		if err != nil {
			return
		}
		switch fr.Type {
		case wire.TypeKeepaliveAck, wire.TypeSubconnURLs, wire.TypeExec, wire.TypeReregister, wire.TypeReportAck:
		default:
			t.Fatalf("accepted type %q", fr.Type)
		}
		if fr.Type == wire.TypeExec {
			if !json.Valid(fr.ID) {
				t.Fatalf("id %q", fr.ID)
			}
			if !json.Valid(wire.ExecResult(fr.ID, "x", true)) {
				t.Fatal("exec-result does not encode")
			}
		}
	})
}
