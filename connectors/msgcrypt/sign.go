package msgcrypt

import (
	"crypto/sha1" // what both platforms sign with (A7, B7); not our choice to make
	"crypto/subtle"
	"encoding/hex"
	"fmt"
)

// sigLen is the length of a signature: lowercase hex of a SHA-1 sum.
const sigLen = 2 * sha1.Size

// Sealed is one encrypted message with what travels beside it: the
// ciphertext (DingTalk body "encrypt", WeCom <Encrypt> or echostr), its
// signature (signature / msg_signature), timestamp and nonce.
type Sealed struct{ Encrypt, Signature, Timestamp, Nonce string }

// Sign returns the signature of a ciphertext: the lowercase hex SHA-1 of the
// token, timestamp, nonce and ciphertext sorted as strings (the values, not
// their names) and concatenated (A7; B7 msg_signature).
func (c *Cipher) Sign(timestamp, nonce, encrypt string) string {
	var sig [sigLen]byte
	c.sign(&sig, timestamp, nonce, encrypt)
	return string(sig[:])
}

// Verify checks signature against the token, timestamp, nonce and
// ciphertext in constant time. Upper-case hex is accepted too; both
// platforms send lower case. The error wraps ErrSignature and never shows
// the expected signature, which would let a caller forge one.
func (c *Cipher) Verify(signature, timestamp, nonce, encrypt string) error {
	if len(signature) != sigLen {
		return fmt.Errorf("%w: signature has %d characters, want %d", ErrSignature, len(signature), sigLen)
	}
	var got, want [sigLen]byte
	for i := range got {
		b := signature[i]
		if 'A' <= b && b <= 'F' {
			b += 'a' - 'A'
		}
		got[i] = b
	}
	c.sign(&want, timestamp, nonce, encrypt)
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return fmt.Errorf("%w: check the token and that timestamp, nonce and ciphertext are taken unchanged from the request", ErrSignature)
	}
	return nil
}

// sign writes the signature into dst without allocating: the four strings
// are sorted in a fixed array and joined in a pooled buffer.
func (c *Cipher) sign(dst *[sigLen]byte, timestamp, nonce, encrypt string) {
	parts := [4]string{c.token, timestamp, nonce, encrypt}
	// Insertion sort of four: no allocation, and byte-wise order as Java's
	// String.compareTo gives for the ASCII values both platforms use.
	for i := 1; i < len(parts); i++ {
		for j := i; j > 0 && parts[j] < parts[j-1]; j-- {
			parts[j], parts[j-1] = parts[j-1], parts[j]
		}
	}
	bp := getBuf(len(parts[0]) + len(parts[1]) + len(parts[2]) + len(parts[3]))
	b := (*bp)[:0]
	for _, p := range parts {
		b = append(b, p...)
	}
	sum := sha1.Sum(b)
	*bp = b
	putBuf(bp)
	hex.Encode(dst[:], sum[:])
}

// Seal encrypts msg with fresh random bytes and signs it with timestamp and
// nonce. DingTalk replies use the current time in milliseconds and
// RandomNonce(16) (A7, Java getEncryptedMap); WeCom uses seconds.
func (c *Cipher) Seal(msg []byte, timestamp, nonce string) (Sealed, error) {
	enc, err := c.Encrypt(msg)
	if err != nil {
		return Sealed{}, err
	}
	return Sealed{Encrypt: enc, Signature: c.Sign(timestamp, nonce, enc), Timestamp: timestamp, Nonce: nonce}, nil
}

// Open verifies the signature of s and only then decrypts it, so a forged
// message never reaches the padding and length checks.
func (c *Cipher) Open(s Sealed) ([]byte, error) {
	if err := c.Verify(s.Signature, s.Timestamp, s.Nonce, s.Encrypt); err != nil {
		return nil, err
	}
	return c.Decrypt(s.Encrypt)
}
