// Package shortstack runs deep work on a short-lived goroutine.
//
// A goroutine's stack grows to what its deepest call needed and shrinks
// only by halves at GCs, and only while three quarters of it are unused. A
// long-lived goroutine that once ran a TLS handshake (ML-KEM works on stack
// arrays: 32 KB) or a JSON decode (8 KB) keeps that stack while it waits,
// whereas a gorilla/websocket reader blocked on a TLS connection needs 4 KB.
// With thousands of idle connections (a fleet, a controller) that was most
// of their memory (bench/README.md): the connection goroutines stay
// shallow, and the deep work happens here.
package shortstack

// Do runs fn on a new goroutine and returns when it has returned.
func Do(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}

// DoErr is Do for work that returns an error.
func DoErr(fn func() error) error {
	var err error
	Do(func() { err = fn() })
	return err
}
