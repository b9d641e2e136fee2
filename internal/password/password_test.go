package password

import "testing"

func TestHashVerify(t *testing.T) {
	h, err := Hash("s3cret!")
	if err != nil {
		t.Fatal(err)
	}
	if !Valid(h) {
		t.Fatalf("own hash %q not valid", h)
	}
	if !Verify(h, "s3cret!") {
		t.Fatal("right password refused")
	}
	if Verify(h, "s3cret") || Verify(h, "") {
		t.Fatal("wrong password accepted")
	}
	h2, _ := Hash("s3cret!")
	if h == h2 {
		t.Fatal("same hash twice: salt not random")
	}
	for _, bad := range []string{"", "$s$", "$s$14$abc", "$s$99$AAAAAAAAAAA$AAAA", "plain"} {
		if Valid(bad) || Verify(bad, "") {
			t.Fatalf("%q accepted", bad)
		}
	}
}
