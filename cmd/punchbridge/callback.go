package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/punchbridge/punchbridge/connectors/msgcrypt"
)

const callbackUsage = `usage: punchbridge callback decrypt|send --platform dingtalk|wecom [flags]

IT tools for platform callbacks:
  decrypt  verify and decrypt one callback, printing the plaintext; exits 1
           naming the check that failed (signature, owner key / receive id,
           padding, ...)
  send     send a correctly encrypted test callback to a running endpoint and
           check its reply

Run 'punchbridge callback decrypt --platform dingtalk --help' (or wecom, or
send) for the platform's flags.

Examples:
  punchbridge callback decrypt --platform dingtalk --token 123456 \
      --aes-key 1234567890123456789012345678901234567890123 --owner-key dingsnotzck6pm5veliw \
      --signature 9a95a004dd16f5c307e849b994173f76aa26e5eb --timestamp 1614767836 \
      --nonce A7Co0cJLMzIDtMMI --encrypt YvkvaGe4...
  punchbridge callback send --platform wecom --url https://pb.example.com/hooks/wecom/wecom-hq ...
`

// runCallback dispatches `callback decrypt|send` to the platform's
// implementation (callback_dingtalk.go, callback_wecom.go).
func runCallback(ctx context.Context, env *cmdEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(env.stderr, callbackUsage)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	action, rest := args[0], args[1:]
	if action != "decrypt" && action != "send" {
		fmt.Fprintf(env.stderr, "callback: unknown action %q; use decrypt or send\n", action)
		return exitUsage
	}
	platform := ""
	for i, a := range rest {
		switch {
		case a == "--platform" || a == "-platform":
			if i+1 < len(rest) {
				platform = rest[i+1]
			}
		case len(a) > 11 && a[:11] == "--platform=":
			platform = a[11:]
		}
	}
	switch platform {
	case "dingtalk":
		return callbackDingTalk(ctx, env, action, rest)
	case "wecom":
		return callbackWeCom(ctx, env, action, rest)
	}
	fmt.Fprintf(env.stderr, "callback %s: --platform must be dingtalk or wecom (got %q)\n", action, platform)
	return exitUsage
}

// decryptCallback checks and decrypts one callback of either platform (they
// share the scheme), naming each check as it passes and the one that
// failed; receiver names the platform's receiver check ("owner key" on
// DingTalk, "receive id" on WeCom).
func decryptCallback(env *cmdEnv, receiver, token, aesKey, receiverID string, s msgcrypt.Sealed, window time.Duration, now time.Time) int {
	c, err := msgcrypt.New(token, aesKey, receiverID)
	if err != nil {
		fmt.Fprintf(env.stderr, "callback decrypt: token and aes key check failed: %v\n", err)
		return exitFailure
	}
	if err := c.Verify(s.Signature, s.Timestamp, s.Nonce, s.Encrypt); err != nil {
		fmt.Fprintf(env.stderr, "callback decrypt: signature check failed: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(env.stderr, "signature: ok")
	plain, err := c.Decrypt(s.Encrypt)
	switch {
	case errors.Is(err, msgcrypt.ErrReceiver):
		fmt.Fprintf(env.stderr, "callback decrypt: %s check failed: %v\n", receiver, err)
		return exitFailure
	case err != nil:
		fmt.Fprintf(env.stderr, "callback decrypt: ciphertext check failed: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(env.stderr, "%s: ok\n", receiver)
	if window > 0 {
		if err := msgcrypt.CheckFresh(s.Timestamp, now, window); err != nil {
			fmt.Fprintf(env.stderr, "callback decrypt: timestamp check failed: %v\n", err)
			return exitFailure
		}
		fmt.Fprintln(env.stderr, "timestamp: ok")
	}
	fmt.Fprintln(env.stdout, string(plain))
	return exitOK
}
