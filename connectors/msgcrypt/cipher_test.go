package msgcrypt

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

var sentinels = []error{ErrKey, ErrSignature, ErrCiphertext, ErrPadding, ErrLength, ErrReceiver, ErrStale, ErrReplay}

// assertOnly fails unless err wraps want and no other sentinel.
func assertOnly(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
	for _, s := range sentinels {
		if s != want && errors.Is(err, s) {
			t.Errorf("error %v also wraps %v", err, s)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	for _, rid := range []string{testReceiver, "", "wx5823bf96d3bd56c7"} {
		c := newTestCipher(t, rid)
		for _, size := range []int{0, 1, 15, 16, 31, 32, 33, 1000} {
			t.Run(fmt.Sprintf("receiver %q size %d", rid, size), func(t *testing.T) {
				msg := bytes.Repeat([]byte{'x'}, size)
				enc, err := c.Encrypt(msg)
				if err != nil {
					t.Fatalf("Encrypt: %v", err)
				}
				raw := rawPlain(t, c, enc)
				if len(raw)%32 != 0 {
					t.Errorf("ciphertext is %d bytes, want a multiple of 32", len(raw))
				}
				unpadded := 20 + size + len(rid)
				wantPad := 32 - unpadded%32
				if unpadded%32 == 0 && wantPad != 32 {
					t.Fatalf("test arithmetic: aligned plaintext must get a full block")
				}
				if got := int(raw[len(raw)-1]); got != wantPad || len(raw) != unpadded+wantPad {
					t.Errorf("padding %d over %d bytes, want %d over %d", got, len(raw), wantPad, unpadded+wantPad)
				}
				for _, b := range raw[:16] {
					if !strings.ContainsRune(alnum, rune(b)) {
						t.Fatalf("random prefix %q is not letters and digits", raw[:16])
					}
				}
				got, err := c.Decrypt(enc)
				if err != nil {
					t.Fatalf("Decrypt: %v", err)
				}
				if !bytes.Equal(got, msg) {
					t.Errorf("Decrypt = %q, want %q", got, msg)
				}
			})
		}
	}
}

// A 0- or 32-byte message with the 12-byte test receiver is 32-byte
// aligned and must get a whole extra block of padding (Java PKCS7Padding).
func TestAlignedMessageGetsFullPadBlock(t *testing.T) {
	c := newTestCipher(t, testReceiver)
	for _, size := range []int{0, 32} {
		raw := rawPlain(t, c, c.EncryptWith([16]byte{}, make([]byte, size)))
		if len(raw) != 20+size+12+32 || !bytes.Equal(raw[len(raw)-32:], bytes.Repeat([]byte{32}, 32)) {
			t.Errorf("size %d: plaintext of %d bytes ends %v, want a full block of 32s", size, len(raw), raw[len(raw)-32:])
		}
	}
}

func TestEncryptIsRandomized(t *testing.T) {
	c := newTestCipher(t, testReceiver)
	a, _ := c.Encrypt([]byte("success"))
	b, _ := c.Encrypt([]byte("success"))
	if a == b {
		t.Fatal("two encryptions of the same message are equal; the random prefix is not random")
	}
}

// The official DingTalk Go sample pads to 16-byte blocks when it encrypts
// (platform API reference A7); what it sends must still open.
func TestDecryptSixteenBytePadding(t *testing.T) {
	c := newTestCipher(t, testReceiver)
	odd := 0 // cases no 32-byte padding could produce
	for _, size := range []int{0, 1, 4, 12, 13, 28, 100} {
		msg := strings.Repeat("m", size)
		raw := pkcs7(plaintext(uint32(size), msg, testReceiver), 16)
		if len(raw)%32 != 0 {
			odd++
		}
		got, err := c.Decrypt(rawSeal(t, c, raw))
		if err != nil {
			t.Fatalf("size %d (%d bytes, pad %d): %v", size, len(raw), raw[len(raw)-1], err)
		}
		if string(got) != msg {
			t.Errorf("size %d: Decrypt = %q, want %q", size, got, msg)
		}
	}
	if odd == 0 {
		t.Error("no case has an odd number of 16-byte blocks")
	}
}

func TestDecryptRejects(t *testing.T) {
	c := newTestCipher(t, testReceiver)
	good := c.EncryptWith([16]byte{}, []byte("hello world"))
	goodRaw, _ := base64.StdEncoding.DecodeString(good)
	seal := func(raw []byte) string { return rawSeal(t, c, raw) }
	withLast := func(last byte) string {
		raw := pkcs7(plaintext(5, "hello", testReceiver), 32)
		raw[len(raw)-1] = last
		return seal(raw)
	}
	tests := []struct {
		name    string
		encrypt string
		want    error
	}{
		{"empty", "", ErrCiphertext},
		{"bad base64", "!!!!" + good[4:], ErrCiphertext},
		{"space in base64", strings.Replace(good, good[8:9], " ", 1), ErrCiphertext},
		{"truncated base64", good[:len(good)-5], ErrCiphertext},
		{"truncated to one byte short", base64.StdEncoding.EncodeToString(goodRaw[:len(goodRaw)-1]), ErrCiphertext},
		{"truncated to one block", base64.StdEncoding.EncodeToString(goodRaw[:16]), ErrCiphertext},
		{"last byte 0", withLast(0), ErrPadding},
		{"last byte 33", withLast(33), ErrPadding},
		{"last byte 255", withLast(255), ErrPadding},
		{"inconsistent padding", func() string {
			raw := pkcs7(plaintext(5, "hello", testReceiver), 32) // pad 27
			raw[len(raw)-2] = 26
			return seal(raw)
		}(), ErrPadding},
		{"only padding", seal(bytes.Repeat([]byte{32}, 32)), ErrLength},
		{"header cut by padding", seal(pkcs7([]byte("0123456789abcdef\x00\x00"), 32)), ErrLength},
		{"length one too large", seal(pkcs7(plaintext(5+12+1, "hello", testReceiver), 32)), ErrLength},
		{"length 0xFFFFFFFF", seal(pkcs7(plaintext(0xFFFFFFFF, "hello", testReceiver), 32)), ErrLength},
		{"wrong receiver", seal(pkcs7(plaintext(5, "hello", "ding87654321"), 32)), ErrReceiver},
		{"receiver missing", seal(pkcs7(plaintext(5, "hello", ""), 32)), ErrReceiver},
		{"receiver with extra byte", seal(pkcs7(plaintext(5, "hello", testReceiver+"x"), 32)), ErrReceiver},
		{"length hides receiver in message", seal(pkcs7(plaintext(5+12, "hello", testReceiver), 32)), ErrReceiver},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.Decrypt(tt.encrypt)
			if got != nil {
				t.Errorf("Decrypt returned %q with the error", got)
			}
			assertOnly(t, err, tt.want)
		})
	}
	// Truncation by a whole block keeps the alignment; what fails then
	// depends on the bytes, but it must fail.
	cut := base64.StdEncoding.EncodeToString(goodRaw[:len(goodRaw)-16])
	if _, err := c.Decrypt(cut); !errors.Is(err, ErrPadding) && !errors.Is(err, ErrLength) && !errors.Is(err, ErrReceiver) {
		t.Errorf("truncated by a block: error = %v, want padding, length or receiver", err)
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name, token, key string
	}{
		{"key 42 chars", testToken, testKey[:42]},
		{"key 44 chars", testToken, testKey + "4"},
		{"key empty", testToken, ""},
		{"key with =", testToken, testKey[:42] + "="},
		{"key with -", testToken, "-" + testKey[1:]},
		{"key with newline", testToken, testKey[:21] + "\n" + testKey[22:]},
		{"token empty", "", testKey},
		{"token with trailing newline", testToken + "\n", testKey},
		{"token with space", "12 34", testKey},
		{"token non-ASCII", "令牌", testKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.token, tt.key, testReceiver)
			if c != nil {
				t.Error("New returned a Cipher with the error")
			}
			assertOnly(t, err, ErrKey)
			if tt.key != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.key)) {
				t.Errorf("error %q shows the key", err)
			}
		})
	}
	// Base64 keys with + and / (WeCom's C1 key has neither; generated keys do).
	if _, err := New(testToken, "abcdefghijklmnopqrstuvwxyz+/ABCDEFGHIJKLMNO", ""); err != nil {
		t.Errorf("key with + and /: %v", err)
	}
}

// No error text, String, %#v or slog output may contain the token, the
// key or an expected signature.
func TestSecretsNeverShown(t *testing.T) {
	const token, key = "SecretTok3n", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	c, err := New(token, key, "wx5823bf96d3bd56c7")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := c.Seal([]byte("hello"), "1409659589", "263014780")
	other := s
	other.Timestamp = "1409659590"
	expected := c.Sign(other.Timestamp, other.Nonce, other.Encrypt)
	var shown []string
	_, err = c.Open(other)
	shown = append(shown, err.Error())
	_, err = New(token+" ", key, "")
	shown = append(shown, err.Error())
	_, err = New(token, key[:42], "")
	shown = append(shown, err.Error())
	_, err = newTestCipher(t, "x").Decrypt(s.Encrypt)
	shown = append(shown, err.Error())
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("cipher", "cipher", c)
	shown = append(shown, fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), logged.String())
	for _, out := range shown {
		for _, secret := range []string{token, key, key[:16], expected} {
			if strings.Contains(out, secret) {
				t.Errorf("%q shows a secret", out)
			}
		}
	}
	if !strings.Contains(shown[len(shown)-1], "wx5823bf96d3bd56c7") {
		t.Errorf("slog output %q lacks the receiver id", shown[len(shown)-1])
	}
}

// A receiver mismatch names both ids when the decrypted one is printable,
// which is what tells IT an AppKey from a CorpId (A7, 900010).
func TestReceiverErrorNamesIDs(t *testing.T) {
	_, err := newTestCipher(t, "dingAppKey").Decrypt(newTestCipher(t, "dingCorpId").EncryptWith([16]byte{}, []byte("{}")))
	assertOnly(t, err, ErrReceiver)
	if !strings.Contains(err.Error(), `"dingCorpId"`) || !strings.Contains(err.Error(), `"dingAppKey"`) {
		t.Errorf("error %q does not name both ids", err)
	}
	_, err = newTestCipher(t, "dingAppKey").Decrypt(newTestCipher(t, "\x00secret\x01").EncryptWith([16]byte{}, []byte("{}")))
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error %q shows non-printable trailing bytes", err)
	}
}

func TestReceiverIDAccessor(t *testing.T) {
	if got := newTestCipher(t, testReceiver).ReceiverID(); got != testReceiver {
		t.Errorf("ReceiverID = %q", got)
	}
}

// The returned message must not alias the receiver id bytes behind it.
func TestDecryptResultCapped(t *testing.T) {
	c := newTestCipher(t, testReceiver)
	got, err := c.Decrypt(c.EncryptWith([16]byte{}, []byte("abc")))
	if err != nil {
		t.Fatal(err)
	}
	if cap(got) != len(got) {
		t.Errorf("cap = %d, len = %d: appending would overwrite the plaintext behind it", cap(got), len(got))
	}
}
