package msgcrypt

import (
	"crypto/sha1"
	"encoding/hex"
	"sort"
	"strings"
	"testing"
)

// referenceSign is the platforms' definition, written the obvious way.
func referenceSign(token, timestamp, nonce, encrypt string) string {
	parts := []string{token, timestamp, nonce, encrypt}
	sort.Strings(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

// Sign sorts the values, not the parameter names: with token "d" the
// order is a, b, c, d whatever argument each value arrives in.
func TestSignSortsValues(t *testing.T) {
	c, err := New("d", testKey, "")
	if err != nil {
		t.Fatal(err)
	}
	abcd := sha1.Sum([]byte("abcd"))
	want := hex.EncodeToString(abcd[:])
	for _, args := range [][3]string{{"a", "b", "c"}, {"c", "b", "a"}, {"b", "c", "a"}, {"c", "a", "b"}} {
		if got := c.Sign(args[0], args[1], args[2]); got != want {
			t.Errorf("Sign%q = %s, want sha1(\"abcd\") = %s", args, got, want)
		}
	}
	// In name order (encrypt, nonce, timestamp, token) the digest differs,
	// so the test above can tell the two apart.
	byName := sha1.Sum([]byte("cbad"))
	if hex.EncodeToString(byName[:]) == want {
		t.Fatal("test cannot distinguish value order from name order")
	}
}

func TestSignMatchesReference(t *testing.T) {
	tests := []struct{ token, ts, nonce, encrypt string }{
		{"QDG6eK", "1409659589", "263014780", "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3"},
		{"123456", "1614767836", "A7Co0cJLMzIDtMMI", "YvkvaGe4hQxd3VxRmEty0dVlnCOA"},
		{"token", "", "", ""},
		{"zzz", "1700000000000", "zzz", "zz"},                          // equal prefixes
		{"abc", "abcd", "ab", "abcde"},                                 // prefixes sort first
		{"Z", "a", "0", "+/="},                                         // byte order: + / 0 = Z a
		{"t", strings.Repeat("9", 20), "n", strings.Repeat("Q", 5000)}, // beyond the pooled buffer's start size
		{"t", "1", "n", strings.Repeat("Q", maxPooled+1)},              // too large to go back to the pool
	}
	for _, tt := range tests {
		c, err := New(tt.token, testKey, "")
		if err != nil {
			t.Fatal(err)
		}
		want := referenceSign(tt.token, tt.ts, tt.nonce, tt.encrypt)
		if got := c.Sign(tt.ts, tt.nonce, tt.encrypt); got != want {
			t.Errorf("Sign(%q, %q, %.10q) = %s, want %s", tt.ts, tt.nonce, tt.encrypt, got, want)
		}
		if err := c.Verify(want, tt.ts, tt.nonce, tt.encrypt); err != nil {
			t.Errorf("Verify of the reference signature: %v", err)
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	v := vectors[1]
	c, err := New(v.token, v.key, v.receiverID)
	if err != nil {
		t.Fatal(err)
	}
	other, err := New("654321", v.key, v.receiverID)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(s string) string {
		b := []byte(s)
		if b[0] == '0' {
			b[0] = '1'
		} else {
			b[0] = '0'
		}
		return string(b)
	}
	tests := []struct {
		name                    string
		c                       *Cipher
		sig, ts, nonce, encrypt string
	}{
		{"one hex digit changed", c, flip(v.signature), v.ts, v.nonce, v.encrypt},
		{"empty", c, "", v.ts, v.nonce, v.encrypt},
		{"too short", c, v.signature[:39], v.ts, v.nonce, v.encrypt},
		{"too long", c, v.signature + "0", v.ts, v.nonce, v.encrypt},
		{"not hex", c, "zz" + v.signature[2:], v.ts, v.nonce, v.encrypt},
		{"other timestamp", c, v.signature, "1614767837", v.nonce, v.encrypt},
		{"other nonce", c, v.signature, v.ts, "A7Co0cJLMzIDtMMJ", v.encrypt},
		{"other ciphertext", c, v.signature, v.ts, v.nonce, v.encrypt[:len(v.encrypt)-4]},
		{"other token", other, v.signature, v.ts, v.nonce, v.encrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertOnly(t, tt.c.Verify(tt.sig, tt.ts, tt.nonce, tt.encrypt), ErrSignature)
			got, err := tt.c.Open(Sealed{Encrypt: tt.encrypt, Signature: tt.sig, Timestamp: tt.ts, Nonce: tt.nonce})
			if got != nil {
				t.Errorf("Open returned %q", got)
			}
			assertOnly(t, err, ErrSignature)
		})
	}
	if err := c.Verify(strings.ToUpper(v.signature), v.ts, v.nonce, v.encrypt); err != nil {
		t.Errorf("upper-case signature: %v", err)
	}
}

func TestSealOpen(t *testing.T) {
	c := newTestCipher(t, testReceiver)
	nonce := RandomNonce(16)
	s, err := c.Seal([]byte(`{"EventType":"check_url"}`), "1700000000000", nonce)
	if err != nil {
		t.Fatal(err)
	}
	if s.Timestamp != "1700000000000" || s.Nonce != nonce || s.Signature != referenceSign(testToken, s.Timestamp, nonce, s.Encrypt) {
		t.Errorf("Seal = %+v, fields or signature wrong", s)
	}
	got, err := c.Open(s)
	if err != nil || string(got) != `{"EventType":"check_url"}` {
		t.Errorf("Open = %q, %v", got, err)
	}
}

func TestRandomNonce(t *testing.T) {
	for _, n := range []int{-1, 0} {
		if got := RandomNonce(n); got != "" {
			t.Errorf("RandomNonce(%d) = %q, want empty", n, got)
		}
	}
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 200 {
		s := RandomNonce(16)
		if len(s) != 16 {
			t.Fatalf("RandomNonce(16) = %q", s)
		}
		for _, r := range s {
			if !strings.ContainsRune(alnum, r) {
				t.Fatalf("RandomNonce(16) = %q has %q", s, r)
			}
			counts[r]++
		}
		if seen[s] {
			t.Fatalf("RandomNonce(16) repeated %q", s)
		}
		seen[s] = true
	}
	// 3,200 draws over 62 characters: each expected ~52 times. Missing
	// characters or a heavy one would mean a broken mapping.
	if len(counts) != len(alnum) {
		t.Errorf("%d distinct characters in 3,200 draws, want %d", len(counts), len(alnum))
	}
	for r, n := range counts {
		if n > 120 {
			t.Errorf("%q drawn %d times of 3,200", r, n)
		}
	}
	if got := RandomNonce(1000); len(got) != 1000 {
		t.Errorf("RandomNonce(1000) has %d characters", len(got))
	}
}
