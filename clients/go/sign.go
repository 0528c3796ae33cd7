package owtclient

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
)

// Signer signs a code's UTF-8 bytes: it returns the base64 Ed25519 signature sent as
// code_sig, for servers run with --require-signed.
type Signer func(code []byte) (string, error)

// Ed25519Signer returns a Signer for a PEM Ed25519 private key (PKCS #8, what
// `openssl genpkey -algorithm ed25519` writes). Its signatures are those
// `owt-fcgi --sign FILE --key PEM` and `openssl pkeyutl -sign -rawin` give.
func Ed25519Signer(pemBytes []byte) (Signer, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("owt: not a PEM private key (want -----BEGIN PRIVATE KEY-----)")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("owt: reading the private key: %w", err)
	}
	priv, ok := key.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("owt: a %T, not an Ed25519 key (openssl genpkey -algorithm ed25519)", key)
	}
	return func(code []byte) (string, error) {
		return base64.StdEncoding.EncodeToString(ed25519.Sign(priv, code)), nil
	}, nil
}

// Ed25519SignerFile is Ed25519Signer for the key in a PEM file.
func Ed25519SignerFile(path string) (Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("owt: reading the key: %w", err)
	}
	return Ed25519Signer(b)
}
