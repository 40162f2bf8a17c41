package msgcrypt

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzDecrypt feeds arbitrary ciphertexts to Decrypt and Open, which must
// never panic and must fail only with the decryption sentinels. Random
// base64 rarely survives the padding check, so the second input is used as
// a raw plaintext (zero-extended to whole AES blocks and encrypted as is),
// which drives the padding, length and receiver checks directly.
//
//	go test -run '^$' -fuzz FuzzDecrypt -fuzztime 30s ./connectors/msgcrypt
func FuzzDecrypt(f *testing.F) {
	var ciphers []*Cipher
	for _, v := range vectors {
		for _, rid := range []string{v.receiverID, ""} {
			c, err := New(v.token, v.key, rid)
			if err != nil {
				f.Fatal(err)
			}
			ciphers = append(ciphers, c)
		}
	}
	for _, v := range vectors {
		f.Add(v.encrypt, v.signature, []byte(nil))
		f.Add(v.encrypt[:len(v.encrypt)-4], v.signature, []byte(nil))
	}
	f.Add("", "", pkcs7(plaintext(7, "success", "dingsnotzck6pm5veliw"), 32))
	f.Add("", "", pkcs7(plaintext(19, "1616140317555161061", "wx5823bf96d3bd56c7"), 16))
	f.Add("", "", pkcs7(plaintext(0xFFFFFFFF, "x", ""), 32))
	f.Add("!!", "", bytes.Repeat([]byte{32}, 32))
	f.Add("AAAA\nAAAA", "", []byte{0})

	decryptErr := func(t *testing.T, err error) {
		for _, s := range []error{ErrCiphertext, ErrPadding, ErrLength, ErrReceiver} {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("Decrypt error %v wraps no decryption sentinel", err)
	}
	f.Fuzz(func(t *testing.T, encrypt, signature string, raw []byte) {
		for _, c := range ciphers {
			if msg, err := c.Decrypt(encrypt); err != nil {
				decryptErr(t, err)
			} else if len(msg) > len(encrypt) {
				t.Fatalf("%d-byte message from %d characters of base64", len(msg), len(encrypt))
			}
			if _, err := c.Open(Sealed{Encrypt: encrypt, Signature: signature, Timestamp: "1", Nonce: "n"}); err != nil &&
				!errors.Is(err, ErrSignature) {
				decryptErr(t, err)
			}
			if len(raw) == 0 || len(raw) > 1<<16 {
				continue
			}
			block := append([]byte(nil), raw...)
			for len(block)%16 != 0 {
				block = append(block, 0)
			}
			msg, err := c.Decrypt(rawSeal(t, c, block))
			if err != nil {
				decryptErr(t, err)
				continue
			}
			// Accepted: the message sits right after the header and the
			// configured receiver id (if any) right after the message, and
			// it survives a round trip.
			if len(block) < 20 || !bytes.Equal(msg, block[20:20+len(msg)]) {
				t.Fatalf("message %q is not the bytes after the header of %q", msg, block)
			}
			if rid := c.ReceiverID(); rid != "" && !bytes.HasPrefix(block[20+len(msg):], []byte(rid)) {
				t.Fatalf("accepted without receiver id %q: %q", rid, block)
			}
			var random [16]byte
			copy(random[:], block)
			if back, err := c.Decrypt(c.EncryptWith(random, msg)); err != nil || !bytes.Equal(back, msg) {
				t.Fatalf("round trip of %q = %q, %v", msg, back, err)
			}
		}
	})
}
