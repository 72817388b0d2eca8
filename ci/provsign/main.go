// Command provsign writes the Helm 4 provenance file (FILE.prov) of each plugin tarball given,
// with Helm's own provenance package: a clear-signed message whose first part is the plugin's
// metadata and whose second part maps the tarball's file name to its sha256. Helm 4's
// `helm plugin install <url>.tgz` fetches <url>.tgz.prov, checks the signature against its
// keyring and looks the sha256 up under the URL's base name, so each tarball is signed under
// its own released name (Helm's `helm plugin package --sign` can only name it NAME-VERSION.tgz).
//
//	provsign -keyring secring.gpg -key 'name <mail>' [-passphrase-file F] (-check | dist/plugin/*.tgz)
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"helm.sh/helm/v4/pkg/provenance"
	"sigs.k8s.io/yaml"
)

// metadata is the part of plugin.yaml the signed message carries (informational: Helm's
// verification reads only the checksums).
type metadata struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Usage       string `json:"usage,omitempty"`
	Description string `json:"description,omitempty"`
}

func main() {
	keyring := flag.String("keyring", "", "secret keyring (binary OpenPGP format) holding the signing key")
	key := flag.String("key", "", "name of the signing key")
	passFile := flag.String("passphrase-file", "", "file holding the key's passphrase (for an encrypted key)")
	check := flag.Bool("check", false, "only check that the key can sign (before a long build)")
	flag.Parse()
	if *keyring == "" || *key == "" || (flag.NArg() == 0) != *check {
		fmt.Fprintln(os.Stderr, "usage: provsign -keyring SECRING -key NAME [-passphrase-file FILE] (-check | TARBALL...)")
		os.Exit(2)
	}
	if err := run(*keyring, *key, *passFile, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "provsign:", err)
		os.Exit(1)
	}
}

func run(keyring, key, passFile string, files []string) error {
	signer, err := provenance.NewFromKeyring(keyring, key)
	if err != nil {
		return fmt.Errorf("reading keyring %s: %w", keyring, err)
	}
	if signer.Entity == nil {
		return fmt.Errorf("no key named %q in %s", key, keyring)
	}
	err = signer.DecryptKey(func(name string) ([]byte, error) {
		if passFile == "" {
			return nil, fmt.Errorf("key %q is encrypted: give -passphrase-file", name)
		}
		p, err := os.ReadFile(passFile)
		return bytes.TrimRight(p, "\r\n"), err
	})
	if err != nil {
		return err
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		meta, err := pluginMetadata(data)
		if err != nil {
			return fmt.Errorf("%s: %w", file, err)
		}
		name := filepath.Base(file)
		prov, err := signer.ClearSign(data, name, meta)
		if err != nil {
			return fmt.Errorf("signing %s: %w", file, err)
		}
		// Check it the way Helm 4 will: signature, then the sha256 under the file's name.
		if _, err := signer.Verify(data, []byte(prov), name); err != nil {
			return fmt.Errorf("the provenance of %s does not verify: %w", file, err)
		}
		if err := os.WriteFile(file+".prov", []byte(prov), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// pluginMetadata reads plugin.yaml at the root of a plugin tarball.
func pluginMetadata(tgz []byte) ([]byte, error) {
	gz, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no plugin.yaml at the root of the tarball")
		}
		if err != nil {
			return nil, err
		}
		if strings.TrimPrefix(h.Name, "./") != "plugin.yaml" {
			continue
		}
		raw, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		var m metadata
		if err := yaml.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("plugin.yaml: %w", err)
		}
		if m.Name == "" || m.Version == "" {
			return nil, errors.New("plugin.yaml: name and version are required")
		}
		return yaml.Marshal(m)
	}
}
