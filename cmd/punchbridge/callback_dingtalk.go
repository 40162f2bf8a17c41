package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/punchbridge/punchbridge/connectors/dingtalk/dingtalktest"
	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
)

const callbackDingTalkUsage = `usage:
  punchbridge callback decrypt --platform dingtalk --token T --aes-key K --owner-key ID \
      --signature S --timestamp TS --nonce N --encrypt E
  punchbridge callback send --platform dingtalk --url URL --token T --aes-key K --owner-key ID \
      [--event JSON | --event-file F | --sample check_url|punch]

decrypt verifies one DingTalk HTTP push the way the receiver does — the
SHA-1 signature over token, timestamp, nonce and ciphertext, then AES-256-CBC
decryption and the owner key at its end — and prints the plaintext event on
stdout. It exits 1 naming the check that failed: the token and aes key, the
signature, the ciphertext, or the owner key (the app key for a subscription
made in the developer console, the corp id for one made with
register_call_back). Take signature (or msg_signature), timestamp (or
timeStamp) and nonce from the request's query and encrypt from its body.

send encrypts an event as DingTalk does, POSTs it to a deployment's
callback URL (/hooks/dingtalk/<connector>), and checks the reply: HTTP 200,
the encrypted success JSON, its signature, and "success" inside. The
default event is check_url, which stores nothing; --sample punch sends an
attendance_check_record of user punchbridge-test at the current time, which
the deployment stores (quarantined, as no employee maps to that user).

The token and aes key may come from the environment instead of the command
line: DINGTALK_CALLBACK_TOKEN and DINGTALK_CALLBACK_AES_KEY.

Examples:
  punchbridge callback decrypt --platform dingtalk --token 123456 \
      --aes-key 1234567890123456789012345678901234567890123 --owner-key dingsnotzck6pm5veliw \
      --signature 9a95a004dd16f5c307e849b994173f76aa26e5eb --timestamp 1614767836 --nonce A7Co0cJLMzIDtMMI \
      --encrypt YvkvaGe4hQxd3VxRmEty0dVlnCOAqwf56xwTRHDHoOURqhalbmBJQk5FNcRk42Gl5T0YQXZNwpwWSm1xAFJ5ZA==
  punchbridge callback send --platform dingtalk --url https://pb.example.com/hooks/dingtalk/dingtalk-hq \
      --token "$TOKEN" --aes-key "$AES_KEY" --owner-key dingappkey
`

// callbackDingTalk runs `callback decrypt|send --platform dingtalk`.
func callbackDingTalk(ctx context.Context, env *cmdEnv, action string, args []string) int {
	fs := flag.NewFlagSet("callback "+action, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() { fmt.Fprint(env.stderr, callbackDingTalkUsage); fs.PrintDefaults() }
	platform := fs.String("platform", "dingtalk", "the platform: dingtalk")
	token := fs.String("token", "", "the HTTP push token of the app (or $DINGTALK_CALLBACK_TOKEN)")
	aesKey := fs.String("aes-key", "", "the 43-character aes_key of the app (or $DINGTALK_CALLBACK_AES_KEY)")
	owner := fs.String("owner-key", "", "the owner key: the app key, or the corp id for an organization-level subscription")
	signature := fs.String("signature", "", "decrypt: the signature (msg_signature) query parameter")
	timestamp := fs.String("timestamp", "", "decrypt: the timestamp (timeStamp) query parameter")
	nonce := fs.String("nonce", "", "decrypt: the nonce query parameter")
	encrypt := fs.String("encrypt", "", "decrypt: the encrypt field of the body")
	window := fs.Duration("window", 0, "decrypt: also refuse a timestamp further than this from now (0: do not check)")
	target := fs.String("url", "", "send: the callback URL of the deployment")
	event := fs.String("event", "", "send: the event to send, as JSON")
	eventFile := fs.String("event-file", "", "send: a file holding the event to send (- for stdin)")
	sample := fs.String("sample", "check_url", "send: the event to send without --event: check_url or punch")
	corpID := fs.String("corp-id", "", "send --sample punch: the corp id of the punch (default: the owner key)")
	legacy := fs.Bool("legacy", false, "send: use msg_signature and timeStamp, the older parameter names")
	timeout := fs.Duration("timeout", 10*time.Second, "send: how long to wait for the reply")
	if code, done := parseFlags(fs, args); done {
		return code
	}
	if *platform != "dingtalk" {
		fmt.Fprintf(env.stderr, "callback %s: --platform %q: this command handles dingtalk\n", action, *platform)
		return exitUsage
	}
	if *token == "" {
		*token = env.getenv("DINGTALK_CALLBACK_TOKEN")
	}
	if *aesKey == "" {
		*aesKey = env.getenv("DINGTALK_CALLBACK_AES_KEY")
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"--token", *token}, {"--aes-key", *aesKey}, {"--owner-key", *owner}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	now := time.Now
	if env.now != nil {
		now = env.now
	}
	switch action {
	case "decrypt":
		for _, f := range []struct{ name, v string }{{"--signature", *signature}, {"--timestamp", *timestamp}, {"--nonce", *nonce}, {"--encrypt", *encrypt}} {
			if f.v == "" {
				missing = append(missing, f.name)
			}
		}
		if len(missing) > 0 {
			fmt.Fprintf(env.stderr, "callback decrypt: %s required\n", strings.Join(missing, ", "))
			return exitUsage
		}
		s := msgcrypt.Sealed{Encrypt: *encrypt, Signature: *signature, Timestamp: *timestamp, Nonce: *nonce}
		return decryptCallback(env, "owner key", *token, *aesKey, *owner, s, *window, now())
	case "send":
		if *target == "" {
			missing = append(missing, "--url")
		}
		if len(missing) > 0 {
			fmt.Fprintf(env.stderr, "callback send: %s required\n", strings.Join(missing, ", "))
			return exitUsage
		}
		if *event != "" && *eventFile != "" {
			fmt.Fprintln(env.stderr, "callback send: give --event or --event-file, not both")
			return exitUsage
		}
		body, code := sendEvent(env, *event, *eventFile, *sample, *corpID, *owner, now())
		if code != exitOK {
			return code
		}
		cfg := dingtalktest.PushConfig{Token: *token, AESKey: *aesKey, OwnerKey: *owner, Legacy: *legacy, Time: now()}
		return sendDingTalk(ctx, env, *target, cfg, body, *timeout)
	}
	fmt.Fprintf(env.stderr, "callback: unknown action %q: use decrypt or send\n", action)
	return exitUsage
}

// sendEvent returns the event to send: --event, --event-file or a sample.
func sendEvent(env *cmdEnv, event, file, sample, corpID, owner string, now time.Time) ([]byte, int) {
	var body []byte
	switch {
	case event != "":
		body = []byte(event)
	case file == "-":
		b, err := io.ReadAll(env.stdin)
		if err != nil {
			fmt.Fprintf(env.stderr, "callback send: read the event from stdin: %v\n", err)
			return nil, exitFailure
		}
		body = b
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(env.stderr, "callback send: %v\n", err)
			return nil, exitFailure
		}
		body = b
	case sample == "check_url":
		body, _ = json.Marshal(dingtalktest.CheckURLEvent())
	case sample == "punch":
		if corpID == "" {
			corpID = owner
		}
		rec := dingtalktest.Record{UserID: "punchbridge-test", CheckTime: now.Truncate(time.Second), SourceType: "ATM", DeviceSN: "PUNCHBRIDGE-TEST", Address: "punchbridge callback send"}
		body, _ = json.Marshal(dingtalktest.CheckRecordEvent(corpID, "punchbridge-test-"+strconv.FormatInt(now.UnixMilli(), 10), rec))
	default:
		fmt.Fprintf(env.stderr, "callback send: --sample %q: use check_url or punch\n", sample)
		return nil, exitUsage
	}
	if !json.Valid(body) {
		fmt.Fprintln(env.stderr, "callback send: the event is not valid JSON")
		return nil, exitFailure
	}
	return body, exitOK
}

// sendDingTalk pushes body and prints what it verified of the reply.
func sendDingTalk(ctx context.Context, env *cmdEnv, target string, cfg dingtalktest.PushConfig, body []byte, timeout time.Duration) int {
	if _, err := msgcrypt.New(cfg.Token, cfg.AESKey, cfg.OwnerKey); err != nil {
		fmt.Fprintf(env.stderr, "callback send: token and aes key check failed: %v\n", err)
		return exitFailure
	}
	rc := retryablehttp.NewClient()
	rc.RetryMax = 0 // one test delivery: a retry would blur what the endpoint did
	rc.Logger = nil
	rc.HTTPClient.Timeout = timeout
	res, err := dingtalktest.Push(ctx, rc.StandardClient(), target, cfg, body)
	for _, c := range res.Checks {
		fmt.Fprintln(env.stdout, "ok:", c)
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "callback send: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(env.stdout, "ok: %s accepted the event (%d bytes)\n", target, len(body))
	return exitOK
}
