package controller

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// TLS file names inside the --tls-dir directory.
const (
	CAFile      = "ca.pem"
	CAKeyFile   = "ca-key.pem"
	CertFile    = "server.pem"
	CertKeyFile = "server-key.pem"
	// TicketKeyFile holds the TLS session ticket key (PEM "TLS TICKET
	// KEY", 32 bytes). Kept across restarts, like a controller cluster
	// that shares its ticket keys: after a restart the devices resume their
	// sessions instead of verifying the chain and a signature again.
	TicketKeyFile = "ticket-key.pem"
)

// EnsureTLS makes dir hold a CA and a server certificate signed by it for
// sans (names and IP addresses), creating whatever is absent. An existing
// server certificate is kept as is. It returns the server TLS config (TLS
// 1.2 or newer).
func EnsureTLS(dir string, sans []string) (*tls.Config, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	if !exists(p(CAFile)) || !exists(p(CAKeyFile)) {
		if err := makeCA(p(CAFile), p(CAKeyFile)); err != nil {
			return nil, err
		}
		os.Remove(p(CertFile))
	}
	if !exists(p(CertFile)) || !exists(p(CertKeyFile)) {
		if err := makeCert(p(CAFile), p(CAKeyFile), p(CertFile), p(CertKeyFile), sans); err != nil {
			return nil, err
		}
	}
	cert, err := tls.LoadX509KeyPair(p(CertFile), p(CertKeyFile))
	if err != nil {
		return nil, err
	}
	key, err := ticketKey(p(TicketKeyFile))
	if err != nil {
		return nil, err
	}
	conf := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12,
		NextProtos: []string{"http/1.1"}}
	conf.SetSessionTicketKeys([][32]byte{key})
	return conf, nil
}

// ticketKey reads the session ticket key at path, making it first if absent.
func ticketKey(path string) ([32]byte, error) {
	var key [32]byte
	if !exists(path) {
		if _, err := rand.Read(key[:]); err != nil {
			return key, err
		}
		if err := writePEM(path, "TLS TICKET KEY", key[:], 0o600); err != nil {
			return key, err
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return key, err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "TLS TICKET KEY" || len(blk.Bytes) != len(key) {
		return key, errors.New(path + ": not a TLS TICKET KEY block of 32 bytes")
	}
	copy(key[:], blk.Bytes)
	return key, nil
}

// CAPool reads dir's CA certificate into a pool (for clients and tests).
func CAPool(dir string) (*x509.CertPool, error) {
	b, err := os.ReadFile(filepath.Join(dir, CAFile))
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, errors.New("no certificate in " + CAFile)
	}
	return pool, nil
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func serialNumber() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	return n
}

func writePEM(path, typ string, der []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// certValidity is the validity of a certificate made now that lasts years.
// It is on the real clock, not Config.Now: the certificate is checked by
// other processes (devices, OpenSSL, curl) against their own wall clock,
// and the files outlive this controller (EnsureTLS reuses them).
func certValidity(years int) (notBefore, notAfter time.Time) {
	now := time.Now()
	return now.Add(-time.Hour), now.AddDate(years, 0, 0)
}

func makeCA(certPath, keyPath string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	notBefore, notAfter := certValidity(10)
	tmpl := &x509.Certificate{
		SerialNumber:          serialNumber(),
		Subject:               pkix.Name{CommonName: "cloudsim test CA"},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	return writePair(certPath, keyPath, der, key)
}

func makeCert(caPath, caKeyPath, certPath, keyPath string, sans []string) error {
	caPair, err := tls.LoadX509KeyPair(caPath, caKeyPath)
	if err != nil {
		return fmt.Errorf("loading CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caPair.Certificate[0])
	if err != nil {
		return err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	notBefore, notAfter := certValidity(2)
	tmpl := &x509.Certificate{
		SerialNumber: serialNumber(),
		Subject:      pkix.Name{CommonName: "cloudsim"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, s := range sans {
		if ip := net.ParseIP(s); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if s != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, s)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caPair.PrivateKey)
	if err != nil {
		return err
	}
	return writePair(certPath, keyPath, der, key)
}

// writePair writes a certificate (0644) and its EC private key (0600).
func writePair(certPath, keyPath string, der []byte, key *ecdsa.PrivateKey) error {
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return err
	}
	if err := writePEM(keyPath, "EC PRIVATE KEY", kder, 0o600); err != nil {
		return err
	}
	return writePEM(certPath, "CERTIFICATE", der, 0o644)
}
