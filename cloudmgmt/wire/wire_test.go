package wire

import (
	"errors"
	"testing"
)

func TestDecodeFrameDirections(t *testing.T) {
	ok := map[Direction][]string{
		ToController: {
			string(Keepalive(3)), string(SubconnRequest([]string{"log"})),
			string(ExecResult([]byte(`"e1"`), "out", true)),
			string(Report("log", 1, "2026-01-01T00:00:00Z", []byte(`{"a":1}`))),
		},
		ToDevice: {
			string(KeepaliveAck(3)), string(SubconnURLs(nil)), string(Exec([]byte(`7`), nil)),
			string(Reregister()), string(ReportAck(9)),
		},
	}
	for dir, frames := range ok {
		for _, f := range frames {
			if _, err := DecodeFrame([]byte(f), dir); err != nil {
				t.Errorf("%s: %v", f, err)
			}
		}
	}
	bad := []string{
		`{"type":"keepalive","seq":1}`, // wrong direction
		`{"type":"keepalive-ack","seq":1.5}`,
		`{"type":"keepalive-ack","seq":null}`,
		`{"type":"exec","id":{},"lines":[]}`,
		`{"type":"exec","id":"x","lines":"a"}`,
		`{"type":"subconn-urls","urls":{"log":1}}`,
		`"x"`, ``,
	}
	for _, f := range bad {
		if _, err := DecodeFrame([]byte(f), ToDevice); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s accepted (%v)", f, err)
		}
	}
	if _, err := DecodeFrame([]byte(`{"type":"report","service":"log","seq":1,"time":"t","data":[]}`), ToController); err == nil {
		t.Error("array data accepted")
	}
	var ut *UnknownTypeError
	if _, err := DecodeFrame([]byte(`{"type":"zzz"}`), ToDevice); !errors.As(err, &ut) {
		t.Error(err)
	}
}

func TestDecodeBody(t *testing.T) {
	var r AuthResponse
	if err := DecodeBody([]byte(`{"result":"success","token":"t","expires_in":300,"x":1}`), &r, "result", "token"); err != nil || r.Token != "t" {
		t.Fatal(err)
	}
	for _, b := range []string{`{"result":"success"}`, `{"result":"success","token":5}`, `[]`, `{`} {
		if err := DecodeBody([]byte(b), &r, "result", "token"); err == nil {
			t.Errorf("%s accepted", b)
		}
	}
}

// TestDecodeBusy: the 503 busy answer of a controller doing admission
// control decodes like any failure answer.
func TestDecodeBusy(t *testing.T) {
	b := []byte(`{"result":"failure","reason":"busy","message":"controller busy: admitting 100 sessions per second; retry after 7 s"}` + "\n")
	var r AuthResponse
	if err := DecodeBody(b, &r, "result", "reason"); err != nil {
		t.Fatal(err)
	}
	if r.Result != ResultFailure || r.Reason != ReasonBusy || r.Token != "" {
		t.Fatalf("%+v", r)
	}
}
