package owtclient

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Signing (code_sig) against ../signing.json, and a client signing every code it sends.

type signingVectors struct {
	PrivateKeyPEM string `json:"private_key_pem"`
	PublicKeyPEM  string `json:"public_key_pem"`
	Cases         []struct {
		Name    string `json:"name"`
		Code    string `json:"code"`
		CodeSig string `json:"code_sig"`
	} `json:"cases"`
}

func loadSigning(t *testing.T) signingVectors {
	t.Helper()
	raw, err := os.ReadFile("../signing.json")
	if err != nil {
		t.Fatal(err)
	}
	var v signingVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSignaturesMatchTheVectors(t *testing.T) {
	v := loadSigning(t)
	signer, err := Ed25519Signer([]byte(v.PrivateKeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range v.Cases {
		if got, err := signer([]byte(c.Code)); err != nil || got != c.CodeSig {
			t.Errorf("%s: %s %v, want %s", c.Name, got, err, c.CodeSig)
		}
	}
	path := filepath.Join(t.TempDir(), "key.pem")
	os.WriteFile(path, []byte(v.PrivateKeyPEM), 0o600)
	if fromFile, err := Ed25519SignerFile(path); err != nil {
		t.Fatal(err)
	} else if got, _ := fromFile([]byte(v.Cases[0].Code)); got != v.Cases[0].CodeSig {
		t.Error("from a file")
	}
	if _, err := Ed25519Signer([]byte(v.PublicKeyPEM)); err == nil {
		t.Error("a public key signs")
	}
	if _, err := Ed25519SignerFile(filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("a missing file signs")
	}
}

func TestAClientSignsFullAndDigestCalls(t *testing.T) {
	v := loadSigning(t)
	signer, _ := Ed25519Signer([]byte(v.PrivateKeyPEM))
	f := newFake(t)
	c := NewClient(f.URL+"/echo", &Options{Signer: signer})
	s := echo(t)(c.Run(v.Cases[1].Code, nil))
	var body map[string]any
	json.Unmarshal([]byte(s.Body), &body)
	if body["code_sig"] != v.Cases[1].CodeSig || body["code_b64"] == nil {
		t.Errorf("%v", body)
	}
	s = echo(t)(c.Run(v.Cases[1].Code, nil))
	body = nil
	json.Unmarshal([]byte(s.Body), &body)
	if body["code_sig"] != v.Cases[1].CodeSig || body["code_sha256"] != CodeSHA256(v.Cases[1].Code) {
		t.Errorf("%v", body)
	}
}
