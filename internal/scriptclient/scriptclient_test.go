package scriptclient

import "testing"

func TestPromptLines(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want int
	}{
		{"\x1b[6n<netdevd>\r\n<netdevd>", 2},                // the probe does not hide a prompt
		{"\x1b[6n\r\n<netdevd><netdevd>", 0},                // issue 11: two prompts on one line
		{"<netdevd>screen-length disable\r\n<netdevd> ", 1}, // trailing blank allowed
		{"x<netdevd>\n", 0},
	} {
		if got := PromptLines(Clean(c.raw), "<netdevd>"); got != c.want {
			t.Errorf("PromptLines(%q) = %d, want %d", c.raw, got, c.want)
		}
	}
}
