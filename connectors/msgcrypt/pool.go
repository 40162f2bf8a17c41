package msgcrypt

import (
	"crypto/rand"
	"sync"
)

// maxPooled bounds the buffers the pool keeps, so one huge message does
// not pin its buffer for the life of the process.
const maxPooled = 64 << 10

// bufs holds scratch buffers for signing and encrypting. Each is used by
// one call at a time and returned cleared of plaintext, so sharing the pool
// across goroutines and connectors is safe.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// getBuf returns a pooled buffer of length n.
func getBuf(n int) *[]byte {
	bp := bufs.Get().(*[]byte)
	if cap(*bp) < n {
		*bp = make([]byte, n)
	}
	*bp = (*bp)[:n]
	return bp
}

// putBuf returns a buffer to the pool unless it grew too large.
func putBuf(bp *[]byte) {
	if cap(*bp) > maxPooled {
		return
	}
	bufs.Put(bp)
}

// alnum is what nonces and random prefixes are made of: letters and digits,
// like the official samples' getRandomStr / randString.
const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// fillAlnum fills dst with uniformly random letters and digits from
// crypto/rand. Bytes >= 248 (= 4 × 62) are skipped so every character is
// equally likely. crypto/rand.Read never fails since Go 1.24.
func fillAlnum(dst []byte) {
	var src [64]byte
	for i := 0; i < len(dst); {
		_, _ = rand.Read(src[:])
		for _, b := range src {
			if int(b) >= 4*len(alnum) {
				continue
			}
			dst[i] = alnum[int(b)%len(alnum)]
			if i++; i == len(dst) {
				break
			}
		}
	}
}

// RandomNonce returns n random letters and digits from crypto/rand
// (DingTalk replies use 16; the repository's Java sample rejects any other
// length). n <= 0 gives "".
func RandomNonce(n int) string {
	if n <= 0 {
		return ""
	}
	b := make([]byte, n)
	fillAlnum(b)
	return string(b)
}
