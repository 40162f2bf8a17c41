package msgcrypt

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
)

const (
	// keyChars is the length of an EncodingAESKey: 43 base64 characters,
	// which with one "=" appended decode to 32 bytes (A7: Java rejects any
	// other length with 900004; B7: AESKey = Base64_Decode(key + "=")).
	keyChars = 43
	keyBytes = 32
	// padBlock is the PKCS#7 block size of both platforms: 32, not the AES
	// block size. Sources: DingCallbackCrypto.java PKCS7Padding.BLOCK_SIZE
	// = 32; WeCom wxbizmsgcrypt.go block_size = 32 on both sides. The
	// official DingTalk Go sample pads with the AES block size (16) when it
	// encrypts; Decrypt accepts that too (see unpad).
	padBlock = 32
	// randomLen random bytes, then a 4-byte big-endian message length.
	randomLen = 16
	headerLen = randomLen + 4
)

// Cipher seals and opens the callback messages of one connector: its token,
// its EncodingAESKey and the receiver id it expects. It is immutable and
// safe for concurrent use. Its String, GoString and LogValue never show the
// token or key.
type Cipher struct {
	token      string
	block      cipher.Block // AES-256; crypto/aes blocks are safe for concurrent use
	iv         [aes.BlockSize]byte
	receiverID string
}

// New returns the Cipher for a callback configuration. token is the
// callback token (letters and digits on both consoles), encodingAESKey the
// 43-character 数据加密密钥 / EncodingAESKey, and receiverID the id the
// plaintext must end with: for DingTalk the owner key (the AppKey for an
// app-level subscription, the CorpId for one made with register_call_back),
// for WeCom the corpid. An empty receiverID checks nothing, for WeCom
// personal third-party apps whose receiveid is empty; the WeCom Go sample
// likewise compares only when one is configured (B7).
func New(token, encodingAESKey, receiverID string) (*Cipher, error) {
	if err := checkToken(token); err != nil {
		return nil, err
	}
	if len(encodingAESKey) != keyChars {
		return nil, fmt.Errorf("%w: EncodingAESKey has %d characters, want %d; copy it again from the callback settings",
			ErrKey, len(encodingAESKey), keyChars)
	}
	// StdEncoding is deliberately not Strict: DingTalk's own documented key
	// "1234567890123456789012345678901234567890123" (vector C2) leaves
	// non-zero bits in its last character, which Java's decoder ignores.
	// The length check on the result catches the newlines StdEncoding skips.
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil || len(key) != keyBytes {
		return nil, fmt.Errorf("%w: EncodingAESKey is not base64 (letters, digits, + and /); copy it again from the callback settings", ErrKey)
	}
	block, err := aes.NewCipher(key)
	if err != nil { // cannot happen with 32 bytes; kept so a change cannot panic
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	c := &Cipher{token: token, block: block, receiverID: receiverID}
	copy(c.iv[:], key[:aes.BlockSize]) // IV = key[:16] on both platforms (A7, B7)
	return c, nil
}

// checkToken rejects what cannot be a console token: both consoles take
// letters and digits only (A6: 3–32 chars; B6: up to 32), but other printable
// characters are allowed here in case an older registration accepted them.
// Whitespace and control characters are always a copy-paste or *_file
// newline mistake that would otherwise surface as every signature failing.
func checkToken(token string) error {
	if token == "" {
		return fmt.Errorf("%w: token is empty; set the callback token from the console", ErrKey)
	}
	for i := 0; i < len(token); i++ {
		if b := token[i]; b <= ' ' || b >= 0x7f {
			return fmt.Errorf("%w: token has a space, control or non-ASCII character at byte %d; paste it again without surrounding whitespace", ErrKey, i)
		}
	}
	return nil
}

// ReceiverID returns the receiver id Decrypt checks and Encrypt appends
// ("" when unchecked).
func (c *Cipher) ReceiverID() string { return c.receiverID }

// String describes the Cipher without its secrets.
func (c *Cipher) String() string {
	return fmt.Sprintf("msgcrypt.Cipher{receiver_id: %q, token: [redacted], key: [redacted]}", c.receiverID)
}

// GoString keeps %#v from printing the token and key.
func (c *Cipher) GoString() string { return c.String() }

// LogValue keeps slog from printing the token and key.
func (c *Cipher) LogValue() slog.Value {
	return slog.GroupValue(slog.String("receiver_id", c.receiverID))
}

// Encrypt returns the base64 ciphertext of msg with 16 fresh random bytes in
// front. The random bytes are letters and digits drawn from crypto/rand, as
// the official samples make them (A7: "random(16 bytes ASCII)"), so strict
// receivers that read the plaintext as text are not upset. The error is
// ErrLength for a msg the 4-byte length field cannot describe.
func (c *Cipher) Encrypt(msg []byte) (string, error) {
	if uint64(len(msg)) > math.MaxUint32-headerLen-padBlock-uint64(len(c.receiverID)) {
		return "", fmt.Errorf("%w: message of %d bytes does not fit the 4-byte length field", ErrLength, len(msg))
	}
	var random [randomLen]byte
	fillAlnum(random[:])
	return c.EncryptWith(random, msg), nil
}

// EncryptWith is Encrypt with the random prefix given, for tests and
// vectors. It pads to 32-byte blocks like the Java sample and WeCom (a msg
// whose plaintext is already aligned gets a full block of 32). It panics if
// msg does not fit the 4-byte length field, which Encrypt reports instead.
func (c *Cipher) EncryptWith(random [16]byte, msg []byte) string {
	if uint64(len(msg)) > math.MaxUint32-headerLen-padBlock-uint64(len(c.receiverID)) {
		panic("msgcrypt: EncryptWith: message does not fit the 4-byte length field")
	}
	n := headerLen + len(msg) + len(c.receiverID)
	pad := padBlock - n%padBlock // 1..32
	size := n + pad
	enc := base64.StdEncoding.EncodedLen(size)

	bp := getBuf(size + enc)
	buf := *bp
	plain, out := buf[:size], buf[size:size+enc]
	copy(plain, random[:])
	binary.BigEndian.PutUint32(plain[randomLen:headerLen], uint32(len(msg)))
	copy(plain[headerLen:], msg)
	copy(plain[headerLen+len(msg):], c.receiverID)
	for i := n; i < size; i++ {
		plain[i] = byte(pad)
	}
	c.cbcEncrypt(plain)
	base64.StdEncoding.Encode(out, plain)
	s := string(out)
	clear(plain) // the pool must not keep plaintext around
	putBuf(bp)
	return s
}

// Decrypt returns the message inside a base64 ciphertext. It checks, in
// order: base64 and block alignment (ErrCiphertext), padding (ErrPadding),
// the length field (ErrLength) and, when configured, the receiver id
// (ErrReceiver). Call it only on a ciphertext whose signature verified (or
// use Open), so that which check failed tells an attacker nothing.
func (c *Cipher) Decrypt(encrypt string) ([]byte, error) {
	if encrypt == "" {
		return nil, fmt.Errorf("%w: empty", ErrCiphertext)
	}
	// Go's StdEncoding skips \r and \n like the samples' decoders do.
	data := make([]byte, base64.StdEncoding.DecodedLen(len(encrypt)))
	n, err := base64.StdEncoding.Decode(data, []byte(encrypt))
	if err != nil {
		// CorruptInputError names an offset only, never content.
		return nil, fmt.Errorf("%w: not base64: %v", ErrCiphertext, err)
	}
	data = data[:n]
	// Any genuine ciphertext is at least 32 bytes: 20 header bytes padded
	// to 32, or to 2 blocks of 16 by the DingTalk Go sample.
	if n < padBlock || n%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: %d bytes, want a multiple of %d and at least %d; was it truncated?",
			ErrCiphertext, n, aes.BlockSize, padBlock)
	}
	c.cbcDecrypt(data)
	plain, err := unpad(data)
	if err != nil {
		return nil, err
	}
	if len(plain) < headerLen {
		return nil, fmt.Errorf("%w: %d bytes left after removing the padding, want at least %d", ErrLength, len(plain), headerLen)
	}
	msgLen := binary.BigEndian.Uint32(plain[randomLen:headerLen])
	if uint64(msgLen) > uint64(len(plain)-headerLen) {
		return nil, fmt.Errorf("%w: declares %d bytes, %d remain", ErrLength, msgLen, len(plain)-headerLen)
	}
	end := headerLen + int(msgLen)
	if c.receiverID != "" && string(plain[end:]) != c.receiverID {
		return nil, fmt.Errorf("%w: message is for %s, configured %q; check the owner key / corpid",
			ErrReceiver, describe(plain[end:]), c.receiverID)
	}
	return plain[headerLen:end:end], nil
}

// cbcEncrypt and cbcDecrypt run CBC in place over the shared block with
// IV = key[:16]. They replace cipher.NewCBCEncrypter/Decrypter, which copy
// the 480-byte AES key schedule on every call; the shared cipher.Block is
// read-only and safe for concurrent use, so the hot path allocates nothing
// here. len(b) must be a multiple of the AES block size.
func (c *Cipher) cbcEncrypt(b []byte) {
	prev := c.iv[:]
	for i := 0; i < len(b); i += aes.BlockSize {
		blk := b[i : i+aes.BlockSize]
		subtle.XORBytes(blk, blk, prev)
		c.block.Encrypt(blk, blk)
		prev = blk
	}
}

func (c *Cipher) cbcDecrypt(b []byte) {
	var prev, next [aes.BlockSize]byte
	prev = c.iv
	for i := 0; i < len(b); i += aes.BlockSize {
		blk := b[i : i+aes.BlockSize]
		copy(next[:], blk)
		c.block.Decrypt(blk, blk)
		subtle.XORBytes(blk, blk, prev[:])
		prev = next
	}
}

// unpad strips PKCS#7 padding of 1..32 bytes, which covers both the
// platforms' 32-byte blocks and the DingTalk Go sample's 16-byte ones (the
// WeCom Go sample demands a multiple of 32; we accept any multiple of 16 so
// that what the DingTalk Go sample sends still opens).
// DingCallbackCrypto.java treats a last byte outside 1..32 as "no padding"
// and keeps every byte; we reject it as ErrPadding instead, because both
// platforms always pad (a full block of 32 when aligned), so such a message
// was not made by either. The padding bytes must all agree.
func unpad(b []byte) ([]byte, error) {
	p := int(b[len(b)-1])
	if p < 1 || p > padBlock { // len(b) >= padBlock, so p <= len(b)
		return nil, fmt.Errorf("%w: last byte %d, want 1..%d", ErrPadding, p, padBlock)
	}
	var diff byte
	for _, v := range b[len(b)-p:] {
		diff |= v ^ byte(p)
	}
	if diff != 0 {
		return nil, fmt.Errorf("%w: the last %d bytes are not all %d", ErrPadding, p, p)
	}
	return b[:len(b)-p], nil
}

// describe shows a decrypted receiver id in an error if it looks like one
// (short, printable ASCII) and only its length otherwise, so a broken
// length field never copies message content into logs.
func describe(id []byte) string {
	if len(id) == 0 || len(id) > 64 {
		return fmt.Sprintf("a receiver id of %d bytes", len(id))
	}
	for _, b := range id {
		if b < ' ' || b >= 0x7f {
			return fmt.Sprintf("a receiver id of %d bytes", len(id))
		}
	}
	return fmt.Sprintf("%q", id)
}
