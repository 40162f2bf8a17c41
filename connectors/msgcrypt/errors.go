package msgcrypt

import "errors"

// Errors callers branch on with errors.Is. Each failure wraps exactly one of
// them, with detail that never contains key material.
var (
	// ErrKey: the EncodingAESKey is not 43 characters of base64, or the
	// token is empty or has spaces or control characters. The config must
	// change.
	ErrKey = errors.New("msgcrypt: invalid token or EncodingAESKey")
	// ErrSignature: the signature does not match the token, timestamp,
	// nonce and ciphertext.
	ErrSignature = errors.New("msgcrypt: signature mismatch")
	// ErrCiphertext: the ciphertext is empty, not base64, or not a
	// multiple of the AES block size (typically truncated).
	ErrCiphertext = errors.New("msgcrypt: malformed ciphertext")
	// ErrPadding: the PKCS#7 padding byte is outside 1..32 or the padding
	// bytes disagree.
	ErrPadding = errors.New("msgcrypt: invalid padding")
	// ErrLength: the declared message length exceeds the plaintext.
	ErrLength = errors.New("msgcrypt: message length exceeds the plaintext")
	// ErrReceiver: the receiver id after the message (DingTalk owner key:
	// AppKey or CorpId; WeCom receiveid: corpid) is not the configured one.
	ErrReceiver = errors.New("msgcrypt: receiver id mismatch")
	// ErrStale: the timestamp is not a number or lies outside the allowed
	// window around now.
	ErrStale = errors.New("msgcrypt: timestamp outside the allowed window")
	// ErrReplay: the same (timestamp, nonce, signature) arrived before
	// within the window.
	ErrReplay = errors.New("msgcrypt: replayed message")
)
