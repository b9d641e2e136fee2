package cloudmgmt

// Debugging output (`debugging cloud-management event|packet`): state
// transitions with their reasons, and every protocol message sent or
// received, summarised with its secrets taken out. The token, the unbinding
// code, passwords and the Authorization header never appear: headers are
// never shown, secret fields are replaced by ******, exec lines are masked
// like command history, URLs lose their query, and bulk data (exec output,
// report data) is shown as its size only.

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
)

// Kinds of debugging output (Options.Debug, Options.DebugOn).
const (
	DebugEvent  = "event"
	DebugPacket = "packet"
)

// debugOn reports whether kind is wanted, so that the text is built only
// when someone reads it.
func (c *Client) debugOn(kind string) bool {
	if c.o.Debug == nil {
		return false
	}
	return c.o.DebugOn == nil || c.o.DebugOn(kind)
}

// debugf sends one debugging line of kind.
func (c *Client) debugf(kind, format string, args ...any) {
	if c.debugOn(kind) {
		c.o.Debug(kind, fmt.Sprintf(format, args...))
	}
}

// debugTransition is the event debugging of one state change.
func (c *Client) debugTransition(from, to State, r Reason) {
	if !c.debugOn(DebugEvent) {
		return
	}
	text := fmt.Sprintf("Connection state changed from %s to %s", from, to)
	if s := r.String(); s != "" {
		text += ": " + s
	}
	c.o.Debug(DebugEvent, text+".")
}

// debugHTTP is the packet debugging of one HTTP request or response body.
func (c *Client) debugHTTP(dir, what string, body []byte) {
	if c.debugOn(DebugPacket) {
		c.o.Debug(DebugPacket, fmt.Sprintf("%s %s: %s", dir, what, describeJSON(body)))
	}
}

// debugFrame is the packet debugging of one WebSocket frame.
func (c *Client) debugFrame(dir string, main bool, frame []byte) {
	if !c.debugOn(DebugPacket) {
		return
	}
	conn := "sub-connection"
	if main {
		conn = "main connection"
	}
	c.o.Debug(DebugPacket, fmt.Sprintf("%s frame on %s: %s", dir, conn, describeJSON(frame)))
}

// secretKeys are JSON fields whose values are never shown.
var secretKeys = map[string]bool{
	"token": true, "code": true, "unbinding_code": true, "password": true, "secret": true,
	"authorization": true, "access_token": true, "refresh_token": true,
}

// bulkKeys are JSON fields shown by size only.
var bulkKeys = map[string]bool{"output": true, "data": true}

// secretLine matches the secret argument of a CLI line (exec frames), as the
// command history masks it.
var secretLine = regexp.MustCompile(`(?i)((?:password\s+(?:simple|cipher|hash)|unbinding-code|password|secret\s+cipher)\s+)\S+`)

// asksPassword matches a command that asks for a password on the next
// line when none is given (backup/restore over SFTP): that answer line is
// a bare secret and is masked whole.
var asksPassword = regexp.MustCompile(`(?i)^\s*(backup|restore)\s+startup-configuration\b`)

// maskExecLines masks the secrets of exec lines, as command history does.
func maskExecLines(lines []string) {
	answerNext := false
	for i, l := range lines {
		if answerNext {
			lines[i], answerNext = "******", false
			continue
		}
		answerNext = asksPassword.MatchString(l) && !secretLine.MatchString(l)
		lines[i] = secretLine.ReplaceAllString(l, "${1}******")
	}
}

// describeJSON summarises a JSON object as `key=value …` in key order,
// with secrets masked; anything else as its size.
func describeJSON(b []byte) string {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Sprintf("(%d bytes, not a JSON object)", len(b))
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// type first: it names the message
	if _, ok := m["type"]; ok {
		keys = append([]string{"type"}, deleteKey(keys, "type")...)
	}
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+"="+describeValue(k, m[k]))
	}
	if len(parts) == 0 {
		return "{}"
	}
	return strings.Join(parts, " ")
}

func deleteKey(keys []string, k string) []string {
	out := keys[:0:0]
	for _, x := range keys {
		if x != k {
			out = append(out, x)
		}
	}
	return out
}

func describeValue(key string, raw json.RawMessage) string {
	lk := strings.ToLower(key)
	switch {
	case secretKeys[lk] || strings.Contains(lk, "token") || strings.Contains(lk, "password") || strings.Contains(lk, "secret"):
		return "******"
	case lk == "type":
		var s string
		if json.Unmarshal(raw, &s) == nil && s != "" && !strings.ContainsAny(s, " \t\r\n") {
			return s // the message's name, as a word
		}
	case bulkKeys[lk]:
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return fmt.Sprintf("(%d bytes)", len(s))
		}
		return fmt.Sprintf("(%d bytes)", len(raw))
	case lk == "lines":
		var lines []string
		if json.Unmarshal(raw, &lines) != nil {
			return fmt.Sprintf("(%d bytes)", len(raw))
		}
		maskExecLines(lines)
		b, _ := json.Marshal(lines)
		return string(b)
	case lk == "urls":
		var urls map[string]string
		if json.Unmarshal(raw, &urls) != nil {
			return fmt.Sprintf("(%d bytes)", len(raw))
		}
		for k, u := range urls {
			urls[k] = redactURL(u)
		}
		b, _ := json.Marshal(urls)
		return string(b)
	case strings.HasSuffix(lk, "url"):
		var u string
		if json.Unmarshal(raw, &u) != nil {
			return fmt.Sprintf("(%d bytes)", len(raw))
		}
		b, _ := json.Marshal(redactURL(u))
		return string(b)
	}
	var nested map[string]json.RawMessage
	if json.Unmarshal(raw, &nested) == nil {
		return "{" + describeJSON(raw) + "}"
	}
	if len(raw) > 200 {
		return fmt.Sprintf("(%d bytes)", len(raw))
	}
	return string(raw)
}

// redactURL drops a URL's query, fragment and user information: a
// controller may put a one-time credential there.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User, u.RawQuery, u.Fragment, u.ForceQuery = nil, "", "", false
	return u.String()
}
