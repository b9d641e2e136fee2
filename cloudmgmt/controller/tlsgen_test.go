package controller

import (
	"crypto/tls"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// A restarted controller (a new tls.Config from the same directory) lets a
// client resume the session it had before: the ticket key is kept.
func TestTicketKeySurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cache := tls.NewLRUClientSessionCache(4)
	resumed := func() bool {
		conf, err := EnsureTLS(dir, []string{"127.0.0.1"})
		if err != nil {
			t.Fatal(err)
		}
		pool, err := CAPool(dir)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := tls.Listen("tcp", "127.0.0.1:0", conf)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("x")) // the ticket goes out with the first write
			c.Close()
		}()
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1",
			ClientSessionCache: cache})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.ReadAll(c) // reads the ticket
		return c.ConnectionState().DidResume
	}
	if resumed() {
		t.Fatal("first connection resumed")
	}
	if !resumed() {
		t.Fatal("after the restart the session was not resumed")
	}
	st, err := os.Stat(filepath.Join(dir, TicketKeyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("ticket key file: %v %v", st, err)
	}
	os.WriteFile(filepath.Join(dir, TicketKeyFile), []byte("garbage"), 0o600)
	if _, err := EnsureTLS(dir, nil); err == nil {
		t.Fatal("a broken ticket key file was accepted")
	}
}
