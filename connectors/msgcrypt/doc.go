// Package msgcrypt is the callback message encryption DingTalk and WeCom
// share: AES-256-CBC with IV = key[:16], PKCS#7 padding to 32-byte blocks,
// a plaintext of random16 | len(BE uint32) | msg | receiver id, and a SHA-1
// signature over the sorted token, timestamp, nonce and ciphertext.
//
// Both platforms publish the same algorithm (platform API reference A7 for
// DingTalk, from DingCallbackCrypto.java and DingTalkCrypto.go of
// open-dingtalk/DingTalk-Callback-Crypto; B7 for WeCom, from the
// 加解密方案说明 page, developer.work.weixin.qq.com/document/path/90968, and
// wxbizmsgcrypt.go of the official Go sample). Only the transport differs:
// DingTalk sends JSON {"encrypt"} and wants a JSON reply, WeCom sends XML
// <Encrypt> and a GET echostr handshake. Transport stays in the connectors;
// this package only seals and opens.
//
// # Receiving
//
// A receiver builds one Cipher per connector at start-up and, per request:
//
//	s := msgcrypt.Sealed{Encrypt: enc, Signature: sig, Timestamp: ts, Nonce: nonce}
//	msg, err := c.Open(s)          // Verify, then Decrypt
//	if err == nil {
//		err = guard.Check(ctx, s)  // freshness, then replay
//	}
//
// Open verifies the signature before decrypting, so an attacker without the
// token never reaches the padding and length checks and learns nothing from
// which of them failed (no padding oracle). Guard.Check runs after Open for
// the same reason: only genuine deliveries reach the nonce store, so a flood
// of forged requests cannot fill it. Every error wraps one of the sentinels
// in errors.go, so receivers count rejections by cause with errors.Is, and no
// error text contains the token, the key or a computed signature.
//
// # Replying
//
// Seal encrypts and signs a reply. DingTalk wants the encrypted "success"
// with a millisecond timeStamp and a 16-character nonce (RandomNonce(16));
// WeCom's passive replies take seconds.
package msgcrypt
