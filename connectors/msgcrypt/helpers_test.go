package msgcrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"testing"
)

// rawPlain decrypts without unpadding, so tests can look at the padding and
// build ciphertexts the platforms would not.
func rawPlain(t testing.TB, c *Cipher, encrypt string) []byte {
	t.Helper()
	data, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil || len(data)%aes.BlockSize != 0 {
		t.Fatalf("rawPlain: bad ciphertext %q: %v", encrypt, err)
	}
	cipher.NewCBCDecrypter(c.block, c.iv[:]).CryptBlocks(data, data)
	return data
}

// rawSeal encrypts an arbitrary plaintext as is (no header, no padding).
func rawSeal(t testing.TB, c *Cipher, plain []byte) string {
	t.Helper()
	if len(plain)%aes.BlockSize != 0 {
		t.Fatalf("rawSeal: %d bytes is not a multiple of %d", len(plain), aes.BlockSize)
	}
	out := make([]byte, len(plain))
	cipher.NewCBCEncrypter(c.block, c.iv[:]).CryptBlocks(out, plain)
	return base64.StdEncoding.EncodeToString(out)
}

// Test configuration: the C2 token and key, with a 12-byte receiver id so
// that a 0- or 32-byte message makes a 32-byte-aligned plaintext.
const (
	testToken    = "123456"
	testKey      = "1234567890123456789012345678901234567890123"
	testReceiver = "ding12345678"
)

func newTestCipher(t testing.TB, receiverID string) *Cipher {
	t.Helper()
	c, err := New(testToken, testKey, receiverID)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// plaintext lays out random16 | declared length | msg | receiver id with no
// padding; declared is usually len(msg) but tests lie with it.
func plaintext(declared uint32, msg, receiverID string) []byte {
	b := []byte("0123456789abcdef")
	b = append(b, byte(declared>>24), byte(declared>>16), byte(declared>>8), byte(declared))
	b = append(b, msg...)
	return append(b, receiverID...)
}

// pkcs7 pads b to a multiple of block, as the platforms (32) and the
// DingTalk Go sample (16) do.
func pkcs7(b []byte, block int) []byte {
	p := block - len(b)%block
	for range p {
		b = append(b, byte(p))
	}
	return b
}
