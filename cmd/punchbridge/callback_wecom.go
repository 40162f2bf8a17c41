package main

import (
	"context"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
	"github.com/punchbridge/punchbridge/connectors/wecom/wecomtest"
)

const callbackWeComUsage = `usage:
  punchbridge callback decrypt --platform wecom --token T --aes-key K --receive-id CORPID \
      --signature S --timestamp TS --nonce N (--echostr E | --body FILE)
  punchbridge callback send --platform wecom --url URL --token T --aes-key K --receive-id CORPID \
      [--sp-no SPNO]

decrypt verifies one WeCom callback the way the receiver does — the SHA-1
msg_signature over token, timestamp, nonce and ciphertext, then AES-256-CBC
decryption and the receive id (the corp id) at its end — and prints the
plaintext on stdout: the echostr of a GET URL verification (--echostr, as
taken from the URL; percent-encoding is undone) or the event inside the
<Encrypt> of a POST body (--body FILE, - for stdin). It exits 1 naming the
check that failed: the token and aes key, the signature, the ciphertext,
the receive id, or with --window the timestamp.

send plays WeCom against a deployment's callback URL (/hooks/wecom/<connector>):
it sends an encrypted GET URL verification and checks that the reply is
exactly the echostr plaintext, then POSTs a sys_approval_change event and
checks for HTTP 200 with an empty body. The receiver queues the approval
and fetches its details from WeCom; with the default, made-up --sp-no that
fetch fails and is logged, so nothing is stored. Give a real approval
number to see it stored.

The token and aes key may come from the environment instead of the command
line: WECOM_CALLBACK_TOKEN and WECOM_CALLBACK_AES_KEY.

Examples:
  punchbridge callback decrypt --platform wecom --token QDG6eK \
      --aes-key jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C --receive-id wx5823bf96d3bd56c7 \
      --signature 5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3 --timestamp 1409659589 --nonce 263014780 \
      --echostr 'P9nAzCzyDtyTWESHep1vC5X9xho%2FqYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp%2B4RPcs8TgAE7OaBO%2BFZXvnaqQ%3D%3D'
  punchbridge callback send --platform wecom --url https://pb.example.com/hooks/wecom/wecom-hq \
      --token "$TOKEN" --aes-key "$AES_KEY" --receive-id ww5823bf96d3bd56c7
`

// callbackWeCom runs `callback decrypt|send --platform wecom`.
func callbackWeCom(ctx context.Context, env *cmdEnv, action string, args []string) int {
	fs := flag.NewFlagSet("callback "+action, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() { fmt.Fprint(env.stderr, callbackWeComUsage); fs.PrintDefaults() }
	platform := fs.String("platform", "wecom", "the platform: wecom")
	token := fs.String("token", "", "the callback Token of the app's 接收事件服务器 settings (or $WECOM_CALLBACK_TOKEN)")
	aesKey := fs.String("aes-key", "", "the 43-character EncodingAESKey (or $WECOM_CALLBACK_AES_KEY)")
	receiveID := fs.String("receive-id", "", "the receive id: the corp id")
	signature := fs.String("signature", "", "decrypt: the msg_signature query parameter")
	timestamp := fs.String("timestamp", "", "decrypt: the timestamp query parameter")
	nonce := fs.String("nonce", "", "decrypt: the nonce query parameter")
	echostr := fs.String("echostr", "", "decrypt: the echostr query parameter of a GET verification")
	bodyFile := fs.String("body", "", "decrypt: a file holding the XML body of a POST (- for stdin)")
	window := fs.Duration("window", 0, "decrypt: also refuse a timestamp further than this from now (0: do not check)")
	target := fs.String("url", "", "send: the callback URL of the deployment")
	spNo := fs.String("sp-no", "", "send: the approval number of the sys_approval_change event (default: a made-up one)")
	timeout := fs.Duration("timeout", 5*time.Second, "send: how long to wait for each reply (WeCom waits 5 s)")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *platform != "wecom" {
		fmt.Fprintf(env.stderr, "callback %s: --platform %q: this command handles wecom\n", action, *platform)
		return exitUsage
	}
	if *token == "" {
		*token = env.getenv("WECOM_CALLBACK_TOKEN")
	}
	if *aesKey == "" {
		*aesKey = env.getenv("WECOM_CALLBACK_AES_KEY")
	}
	missing := missingFlags(map[string]string{"--token": *token, "--aes-key": *aesKey, "--receive-id": *receiveID})
	now := time.Now
	if env.now != nil {
		now = env.now
	}
	switch action {
	case "decrypt":
		missing = append(missing, missingFlags(map[string]string{"--signature": *signature, "--timestamp": *timestamp, "--nonce": *nonce})...)
		if len(missing) > 0 {
			fmt.Fprintf(env.stderr, "callback decrypt: %s required\n", strings.Join(missing, ", "))
			return exitUsage
		}
		if (*echostr == "") == (*bodyFile == "") {
			fmt.Fprintln(env.stderr, "callback decrypt: give --echostr (a GET verification) or --body FILE (a POST), one of them")
			return exitUsage
		}
		enc, code := wecomCiphertext(env, *echostr, *bodyFile)
		if code != exitOK {
			return code
		}
		s := msgcrypt.Sealed{Encrypt: enc, Signature: *signature, Timestamp: *timestamp, Nonce: *nonce}
		return decryptCallback(env, "receive id", *token, *aesKey, *receiveID, s, *window, now())
	case "send":
		if *target == "" {
			missing = append(missing, "--url")
		}
		if len(missing) > 0 {
			fmt.Fprintf(env.stderr, "callback send: %s required\n", strings.Join(missing, ", "))
			return exitUsage
		}
		return sendWeCom(ctx, env, *target, *token, *aesKey, *receiveID, *spNo, *timeout, now)
	}
	fmt.Fprintf(env.stderr, "callback: unknown action %q: use decrypt or send\n", action)
	return exitUsage
}

// missingFlags lists, sorted, the flags whose value is empty.
func missingFlags(flags map[string]string) []string {
	var out []string
	for name, v := range flags {
		if v == "" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// wecomCiphertext returns the ciphertext of --echostr (percent-decoded,
// as the receiver reads it from the URL) or of the <Encrypt> in --body.
func wecomCiphertext(env *cmdEnv, echostr, bodyFile string) (string, int) {
	if echostr != "" {
		if strings.Contains(echostr, "%") {
			dec, err := urlUnescape(echostr)
			if err != nil {
				fmt.Fprintf(env.stderr, "callback decrypt: --echostr: %v\n", err)
				return "", exitFailure
			}
			echostr = dec
		}
		return echostr, exitOK
	}
	var (
		b   []byte
		err error
	)
	if bodyFile == "-" {
		b, err = io.ReadAll(io.LimitReader(env.stdin, 1<<20))
	} else {
		b, err = os.ReadFile(bodyFile)
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "callback decrypt: read the body: %v\n", err)
		return "", exitFailure
	}
	var body struct {
		Encrypt string `xml:"Encrypt"`
	}
	if err := xml.Unmarshal(b, &body); err != nil || body.Encrypt == "" {
		fmt.Fprintln(env.stderr, "callback decrypt: body check failed: want the POST's XML body with an <Encrypt> element")
		return "", exitFailure
	}
	return body.Encrypt, exitOK
}

// urlUnescape undoes percent-encoding without turning "+" into a space:
// base64 ciphertexts hold "+" and WeCom encodes it as %2B.
func urlUnescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", fmt.Errorf("%q ends in a broken %%-escape", s)
		}
		v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", fmt.Errorf("%q has a broken %%-escape at byte %d", s, i)
		}
		b.WriteByte(byte(v))
		i += 2
	}
	return b.String(), nil
}

// sendWeCom sends a URL verification and an approval event and checks the
// replies.
func sendWeCom(ctx context.Context, env *cmdEnv, target, token, aesKey, receiveID, spNo string, timeout time.Duration, now func() time.Time) int {
	rc := retryablehttp.NewClient()
	rc.RetryMax = 0 // one test delivery: a retry would blur what the endpoint did
	rc.Logger = nil
	rc.HTTPClient.Timeout = timeout
	s, err := wecomtest.NewSender(target, token, aesKey, receiveID, wecomtest.WithSenderClock(now), wecomtest.WithHTTPClient(rc.StandardClient()))
	if err != nil {
		fmt.Fprintf(env.stderr, "callback send: token and aes key check failed: %v\n", err)
		return exitFailure
	}
	if err := s.Verify(ctx); err != nil {
		fmt.Fprintf(env.stderr, "callback send: URL verification failed: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(env.stdout, "ok: GET URL verification answered the bare echostr plaintext")
	at := now()
	if spNo == "" {
		spNo = at.Format("20060102") + "9" + strconv.Itoa(at.Nanosecond()%1000)
	}
	event := wecomtest.ApprovalChange(receiveID, wecomtest.Approval{
		SpNo: spNo, Name: "punchbridge callback send", Status: 1, Applyer: "punchbridge-test", Party: "1", ApplyTime: at,
	}, at)
	if err := s.Deliver(ctx, event); err != nil {
		fmt.Fprintf(env.stderr, "callback send: sys_approval_change failed: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(env.stdout, "ok: POST sys_approval_change (SpNoStr %s) answered %d with an empty body\n", spNo, http.StatusOK)
	return exitOK
}
