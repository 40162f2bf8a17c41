package msgcrypt

import (
	"testing"
)

// vector is one official sample from platform API reference section C.
type vector struct {
	name                   string
	token, key, receiverID string
	signature, ts, nonce   string
	encrypt                string
	want                   string
	pad                    int // padding byte observed in the decrypted ciphertext
}

var vectors = []vector{
	{
		// C1: WeCom URL verification (GET), official Go sample sample.go.
		name:       "C1 WeCom echostr",
		token:      "QDG6eK",
		key:        "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
		receiverID: "wx5823bf96d3bd56c7",
		signature:  "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3",
		ts:         "1409659589",
		nonce:      "263014780",
		encrypt:    "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==",
		want:       "1616140317555161061",
		pad:        7,
	},
	{
		// C2: DingTalk troubleshooting page (configure-stream-push), reply
		// decrypting to "success".
		name:       "C2 DingTalk success reply",
		token:      "123456",
		key:        "1234567890123456789012345678901234567890123",
		receiverID: "dingsnotzck6pm5veliw",
		signature:  "9a95a004dd16f5c307e849b994173f76aa26e5eb",
		ts:         "1614767836",
		nonce:      "A7Co0cJLMzIDtMMI",
		encrypt:    "YvkvaGe4hQxd3VxRmEty0dVlnCOAqwf56xwTRHDHoOURqhalbmBJQk5FNcRk42Gl5T0YQXZNwpwWSm1xAFJ5ZA==",
		want:       "success",
		pad:        17,
	},
}

func (v vector) sealed() Sealed {
	return Sealed{Encrypt: v.encrypt, Signature: v.signature, Timestamp: v.ts, Nonce: v.nonce}
}

func TestOfficialVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			c, err := New(v.token, v.key, v.receiverID)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if got := c.Sign(v.ts, v.nonce, v.encrypt); got != v.signature {
				t.Errorf("Sign = %s, want %s", got, v.signature)
			}
			if err := c.Verify(v.signature, v.ts, v.nonce, v.encrypt); err != nil {
				t.Errorf("Verify: %v", err)
			}
			got, err := c.Open(v.sealed())
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if string(got) != v.want {
				t.Errorf("Open = %q, want %q", got, v.want)
			}
			// Re-encrypting with the vector's own random prefix and the
			// 32-byte padding must reproduce the platform's ciphertext
			// byte for byte, which pins the layout and the block size.
			raw := rawPlain(t, c, v.encrypt)
			if p := int(raw[len(raw)-1]); p != v.pad {
				t.Errorf("padding byte = %d, want %d", p, v.pad)
			}
			var random [16]byte
			copy(random[:], raw)
			if enc := c.EncryptWith(random, got); enc != v.encrypt {
				t.Errorf("EncryptWith = %s, want %s", enc, v.encrypt)
			}
			// Without a configured receiver id nothing is compared.
			open, err := New(v.token, v.key, "")
			if err != nil {
				t.Fatalf("New without receiver id: %v", err)
			}
			if got, err := open.Decrypt(v.encrypt); err != nil || string(got) != v.want {
				t.Errorf("Decrypt without receiver id = %q, %v; want %q", got, err, v.want)
			}
		})
	}
}
