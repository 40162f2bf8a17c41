package main

import (
	"strings"
	"testing"
)

// The DingTalk troubleshooting vector (platform reference C2): the reply
// that decrypts to "success".
var dingtalkVector = []string{"--platform", "dingtalk", "--token", "123456", "--aes-key", "1234567890123456789012345678901234567890123",
	"--signature", "9a95a004dd16f5c307e849b994173f76aa26e5eb", "--timestamp", "1614767836", "--nonce", "A7Co0cJLMzIDtMMI",
	"--encrypt", "YvkvaGe4hQxd3VxRmEty0dVlnCOAqwf56xwTRHDHoOURqhalbmBJQk5FNcRk42Gl5T0YQXZNwpwWSm1xAFJ5ZA=="}

func TestCallbackDingTalkDecrypt(t *testing.T) {
	args := append([]string{"callback", "decrypt"}, dingtalkVector...)
	cases := []struct {
		name     string
		extra    []string
		replace  [2]string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{"the official vector", []string{"--owner-key", "dingsnotzck6pm5veliw"}, [2]string{}, exitOK, "success", ""},
		{"wrong owner key", []string{"--owner-key", "dingOTHER"}, [2]string{}, exitFailure, "", "owner key"},
		{"bad signature", []string{"--owner-key", "dingsnotzck6pm5veliw"}, [2]string{"9a95a004", "9a95a005"}, exitFailure, "", "signature"},
		{"missing flags", nil, [2]string{"--encrypt", "--nothing"}, exitUsage, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := append(append([]string(nil), args...), tc.extra...)
			if tc.replace[0] != "" {
				for i := range a {
					a[i] = strings.Replace(a[i], tc.replace[0], tc.replace[1], 1)
				}
			}
			code, stdout, stderr := runCmd(t, nil, a...)
			if code != tc.wantCode || !strings.Contains(stdout, tc.wantOut) || !strings.Contains(stderr, tc.wantErr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, stdout, stderr, tc.wantCode, tc.wantOut, tc.wantErr)
			}
		})
	}
	if code, _, stderr := runCmd(t, nil, "callback", "decrypt", "--platform", "teams"); code != exitUsage || !strings.Contains(stderr, "dingtalk or wecom") {
		t.Fatalf("unknown platform: exit %d %q", code, stderr)
	}
}
