package msgcrypt_test

import (
	"context"
	"fmt"
	"time"

	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
)

// A DingTalk HTTP-push receiver opens a delivery, guards it against stale
// and replayed requests, and answers with the encrypted "success". The
// delivery here is DingTalk's own documented sample (platform API
// reference, vector C2).
func Example() {
	c, err := msgcrypt.New("123456", "1234567890123456789012345678901234567890123", "dingsnotzck6pm5veliw")
	if err != nil {
		fmt.Println(err)
		return
	}
	now := func() time.Time { return time.Unix(1614767900, 0) } // about a minute after the sample was made
	guard := msgcrypt.Guard{Nonces: msgcrypt.NewMemoryNonces(now), Now: now}

	in := msgcrypt.Sealed{
		Encrypt:   "YvkvaGe4hQxd3VxRmEty0dVlnCOAqwf56xwTRHDHoOURqhalbmBJQk5FNcRk42Gl5T0YQXZNwpwWSm1xAFJ5ZA==",
		Signature: "9a95a004dd16f5c307e849b994173f76aa26e5eb",
		Timestamp: "1614767836",
		Nonce:     "A7Co0cJLMzIDtMMI",
	}
	msg, err := c.Open(in)
	if err == nil {
		err = guard.Check(context.Background(), in)
	}
	fmt.Printf("%s %v\n", msg, err)

	// The platform sending the same request again is a replay.
	fmt.Println(guard.Check(context.Background(), in))

	// The reply: DingTalk wants a millisecond timeStamp and a 16-character nonce.
	reply, err := c.Seal([]byte("success"), fmt.Sprint(now().UnixMilli()), msgcrypt.RandomNonce(16))
	if err != nil {
		fmt.Println(err)
		return
	}
	back, err := c.Open(reply)
	fmt.Printf("%s %v %d\n", back, err, len(reply.Nonce))
	// Output:
	// success <nil>
	// msgcrypt: replayed message: timestamp "1614767836", nonce "A7Co0cJLMzIDtMMI" seen before
	// success <nil> 16
}
