// Package wire holds the messages of cloud protocol v1 (docs/protocol.md) and
// their strict decoders. Both the device client (package cloudmgmt) and the
// reference controller (package cloudmgmt/controller) use it, so the two can
// never disagree about a field name or type.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Protocol constants.
const (
	Subprotocol = "cloud.v1"
	MaxBody     = 64 << 10 // bodies and frames, bytes
	DefaultPort = 19443

	PathAuth     = "/cloud/v1/auth"
	PathRegister = "/cloud/v1/register"
	PathUnbind   = "/cloud/v1/unbind"
	PathMain     = "/cloud/v1/main/"
	PathSub      = "/cloud/v1/sub/"

	ResultSuccess = "success"
	ResultFailure = "failure"

	ReasonSerialUnknown  = "serial-unknown"
	ReasonBoundElsewhere = "bound-elsewhere"
	ReasonCodeInvalid    = "code-invalid"
	// ReasonBusy comes with 503 and a Retry-After header (delta-seconds):
	// the controller admits new sessions at a limited rate and has given the
	// device a slot that many seconds from now (docs/protocol.md §1).
	ReasonBusy = "busy"
	// HeaderRetryAfter carries the seconds of a busy answer.
	HeaderRetryAfter = "Retry-After"

	ServiceTelemetry = "telemetry"
	ServiceLog       = "log"
)

// Frame types.
const (
	TypeKeepalive      = "keepalive"
	TypeKeepaliveAck   = "keepalive-ack"
	TypeSubconnRequest = "subconn-request"
	TypeSubconnURLs    = "subconn-urls"
	TypeExec           = "exec"
	TypeExecResult     = "exec-result"
	TypeReregister     = "reregister"
	TypeReport         = "report"
	TypeReportAck      = "report-ack"
)

// AuthRequest is the body of POST /cloud/v1/auth.
type AuthRequest struct {
	Serial   string `json:"serial"`
	Model    string `json:"model"`
	MAC      string `json:"mac"`
	Sysname  string `json:"sysname"`
	Software string `json:"software"`
}

// AuthResponse is every answer of /cloud/v1/auth.
type AuthResponse struct {
	Result    string `json:"result"`
	Token     string `json:"token,omitempty"`
	ExpiresIn int    `json:"expires_in,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Message   string `json:"message,omitempty"`
}

// RegisterRequest is the body of POST /cloud/v1/register.
type RegisterRequest struct {
	Serial    string `json:"serial"`
	Keepalive int    `json:"keepalive"`
	Ping      int    `json:"ping"`
}

// RegisterResponse is every answer of /cloud/v1/register.
type RegisterResponse struct {
	Result  string `json:"result"`
	MainURL string `json:"main_url,omitempty"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// UnbindRequest is the body of POST /cloud/v1/unbind.
type UnbindRequest struct {
	Serial string `json:"serial"`
	Code   string `json:"code"`
}

// UnbindResponse is every answer of /cloud/v1/unbind.
type UnbindResponse struct {
	Result  string `json:"result"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// Frame is one WebSocket text frame, any type. Only the fields of its type
// are meaningful; encoders use the typed constructors below.
type Frame struct {
	Type     string            `json:"type"`
	Seq      uint64            `json:"seq"`
	Services []string          `json:"services,omitempty"`
	URLs     map[string]string `json:"urls,omitempty"`
	ID       json.RawMessage   `json:"id,omitempty"` // string or number, echoed verbatim
	Lines    []string          `json:"lines,omitempty"`
	Output   string            `json:"output"`
	OK       bool              `json:"ok"`
	Service  string            `json:"service,omitempty"`
	Time     string            `json:"time,omitempty"`
	Data     json.RawMessage   `json:"data,omitempty"`
}

// Encoders: each writes exactly the fields of its type.

func Keepalive(seq uint64) []byte {
	return mustJSON(struct {
		Type string `json:"type"`
		Seq  uint64 `json:"seq"`
	}{TypeKeepalive, seq})
}

func KeepaliveAck(seq uint64) []byte {
	return mustJSON(struct {
		Type string `json:"type"`
		Seq  uint64 `json:"seq"`
	}{TypeKeepaliveAck, seq})
}

func SubconnRequest(services []string) []byte {
	return mustJSON(struct {
		Type     string   `json:"type"`
		Services []string `json:"services"`
	}{TypeSubconnRequest, services})
}

func SubconnURLs(urls map[string]string) []byte {
	if urls == nil {
		urls = map[string]string{}
	}
	return mustJSON(struct {
		Type string            `json:"type"`
		URLs map[string]string `json:"urls"`
	}{TypeSubconnURLs, urls})
}

func Exec(id json.RawMessage, lines []string) []byte {
	if lines == nil {
		lines = []string{}
	}
	return mustJSON(struct {
		Type  string          `json:"type"`
		ID    json.RawMessage `json:"id"`
		Lines []string        `json:"lines"`
	}{TypeExec, id, lines})
}

func ExecResult(id json.RawMessage, output string, ok bool) []byte {
	return mustJSON(struct {
		Type   string          `json:"type"`
		ID     json.RawMessage `json:"id"`
		Output string          `json:"output"`
		OK     bool            `json:"ok"`
	}{TypeExecResult, id, output, ok})
}

func Reregister() []byte { return []byte(`{"type":"reregister"}`) }

func Report(service string, seq uint64, time string, data json.RawMessage) []byte {
	return mustJSON(struct {
		Type    string          `json:"type"`
		Service string          `json:"service"`
		Seq     uint64          `json:"seq"`
		Time    string          `json:"time"`
		Data    json.RawMessage `json:"data"`
	}{TypeReport, service, seq, time, data})
}

func ReportAck(seq uint64) []byte {
	return mustJSON(struct {
		Type string `json:"type"`
		Seq  uint64 `json:"seq"`
	}{TypeReportAck, seq})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// ErrProtocol marks every decoding failure: the peer broke the protocol.
var ErrProtocol = errors.New("protocol error")

// ProtoError is a decoding failure with the detail a status line shows.
type ProtoError struct{ Detail string }

func (e *ProtoError) Error() string { return e.Detail }
func (e *ProtoError) Unwrap() error { return ErrProtocol }

// UnknownTypeError is a frame whose type this side does not know (close 1002).
type UnknownTypeError struct{ Type string }

func (e *UnknownTypeError) Error() string { return fmt.Sprintf("unknown type %q", e.Type) }
func (e *UnknownTypeError) Unwrap() error { return ErrProtocol }

func perr(format string, a ...any) error { return &ProtoError{fmt.Sprintf(format, a...)} }

// Direction says which side is decoding.
type Direction int

const (
	ToDevice     Direction = iota // frames the controller sends
	ToController                  // frames the device sends
)

// schema lists the required fields of each type, per direction.
var schema = map[Direction]map[string][]string{
	ToDevice: {
		TypeKeepaliveAck: {"seq"},
		TypeSubconnURLs:  {"urls"},
		TypeExec:         {"id", "lines"},
		TypeReregister:   {},
		TypeReportAck:    {"seq"},
	},
	ToController: {
		TypeKeepalive:      {"seq"},
		TypeSubconnRequest: {"services"},
		TypeExecResult:     {"id", "output", "ok"},
		TypeReport:         {"service", "seq", "time", "data"},
	},
}

// DecodeFrame parses one text frame received in direction dir. It checks that
// the frame is one JSON object of at most MaxBody bytes, that its type is
// known for that direction, and that every required field is present with
// the right JSON type. Unknown fields are ignored.
func DecodeFrame(b []byte, dir Direction) (Frame, error) {
	var f Frame
	if len(b) > MaxBody {
		return f, perr("frame of %d bytes over 64 KiB", len(b))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || raw == nil {
		return f, perr("malformed JSON object")
	}
	var typ string
	if err := json.Unmarshal(raw["type"], &typ); err != nil || raw["type"] == nil {
		return f, perr("missing or non-string type")
	}
	fields, ok := schema[dir][typ]
	if !ok {
		return f, &UnknownTypeError{typ}
	}
	f.Type = typ
	for _, name := range fields {
		v, ok := raw[name]
		if !ok || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			return f, perr("%s: missing field %s", typ, name)
		}
		var err error
		switch name {
		case "seq":
			err = json.Unmarshal(v, &f.Seq)
		case "services":
			err = json.Unmarshal(v, &f.Services)
		case "urls":
			err = json.Unmarshal(v, &f.URLs)
		case "lines":
			err = json.Unmarshal(v, &f.Lines)
		case "output":
			err = json.Unmarshal(v, &f.Output)
		case "ok":
			err = json.Unmarshal(v, &f.OK)
		case "service":
			err = json.Unmarshal(v, &f.Service)
		case "time":
			err = json.Unmarshal(v, &f.Time)
		case "id":
			v = bytes.TrimSpace(v)
			var s string
			var n json.Number
			if json.Unmarshal(v, &s) != nil {
				d := json.NewDecoder(bytes.NewReader(v))
				d.UseNumber()
				if d.Decode(&n) != nil {
					err = errors.New("not a string or number")
				}
			}
			f.ID = append(json.RawMessage(nil), v...)
		case "data":
			var m map[string]json.RawMessage
			err = json.Unmarshal(v, &m)
			if err == nil && m == nil {
				err = errors.New("not an object")
			}
			f.Data = append(json.RawMessage(nil), bytes.TrimSpace(v)...)
		}
		if err != nil {
			return f, perr("%s: field %s has the wrong type", typ, name)
		}
	}
	return f, nil
}

// DecodeBody decodes an HTTP body into v, checking that every name in
// required is present and not null. Over-size bodies are the caller's check.
func DecodeBody(b []byte, v any, required ...string) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || raw == nil {
		return perr("malformed JSON object")
	}
	for _, name := range required {
		r, ok := raw[name]
		if !ok || bytes.Equal(bytes.TrimSpace(r), []byte("null")) {
			return perr("missing field %s", name)
		}
	}
	if err := json.Unmarshal(b, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return perr("field %s has the wrong type", te.Field)
		}
		return perr("malformed JSON object")
	}
	return nil
}
