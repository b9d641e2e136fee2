package localapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"

	"github.com/netdevd/netdevd/internal/config"
	"github.com/netdevd/netdevd/internal/device"
	"github.com/netdevd/netdevd/internal/logbuf"
	"github.com/netdevd/netdevd/internal/store"
)

// maxSwapTries bounds the read-change-swap loop of Update; each retry means
// another session committed in between, so a handful always suffices.
const maxSwapTries = 50

// Client talks to the daemon's local API. It implements device.Device.
type Client struct {
	http  *http.Client
	token string
}

var _ device.Device = (*Client)(nil)

// NewClient returns a client of the API at socketPath, calling as the
// session token ("" = console).
func NewClient(socketPath, token string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socketPath)
		},
		MaxIdleConns: 2,
	}
	return &Client{http: &http.Client{Transport: tr}, token: token}
}

// Close releases idle connections.
func (c *Client) Close() { c.http.CloseIdleConnections() }

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://netdevd"+path, body)
	if err != nil {
		return err
	}
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// send makes the request as this client's session and turns a refusal
// into its error; on success the caller closes the body.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	if c.token != "" {
		req.Header.Set(TokenHeader, c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("device daemon not reachable: %w", err)
	}
	if resp.StatusCode == http.StatusOK {
		return resp, nil
	}
	defer resp.Body.Close()
	var e errorBody
	json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&e)
	switch resp.StatusCode {
	case http.StatusForbidden:
		return nil, device.ErrPermission
	case http.StatusConflict:
		return nil, store.ErrConflict
	}
	return nil, errors.New(e.Error)
}

func (c *Client) get(ctx context.Context, path string, out any) error {
	return c.do(ctx, http.MethodGet, path, nil, out)
}

func (c *Client) post(ctx context.Context, path string, in, out any) error {
	return c.do(ctx, http.MethodPost, path, in, out)
}

// WhoAmI returns the identity the daemon knows this client by.
func (c *Client) WhoAmI(ctx context.Context) (device.Identity, error) {
	return fetch[device.Identity](ctx, c, "/v1/whoami")
}

// Exec runs lines in the daemon as one session.
func (c *Client) Exec(ctx context.Context, lines []string) (string, bool, error) {
	var res execBody
	err := c.post(ctx, "/v1/exec", execBody{Lines: lines}, &res)
	return res.Output, res.OK, err
}

func (c *Client) Running(ctx context.Context) (config.Config, error) {
	var rb runningBody
	return rb.Config, c.get(ctx, "/v1/running", &rb)
}

// Update reads, changes and compare-and-swaps, re-running change when
// another session won the race.
func (c *Client) Update(ctx context.Context, change func(*config.Config) error) error {
	for try := 0; try < maxSwapTries; try++ {
		var rb runningBody
		if err := c.get(ctx, "/v1/running", &rb); err != nil {
			return err
		}
		if err := change(&rb.Config); err != nil {
			return err
		}
		err := c.post(ctx, "/v1/running", rb, nil)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return store.ErrConflict
}

func (c *Client) Save(ctx context.Context, file string) error {
	return c.post(ctx, "/v1/save", fileBody{File: file}, nil)
}

func (c *Client) FileExists(ctx context.Context, file string) (bool, error) {
	var ok bool
	return ok, c.get(ctx, "/v1/file-exists?file="+url.QueryEscape(file), &ok)
}

// fetch GETs path and decodes its JSON answer as a T.
func fetch[T any](ctx context.Context, c *Client, path string) (T, error) {
	var v T
	return v, c.get(ctx, path, &v)
}

func (c *Client) SavedConfiguration(ctx context.Context) (string, error) {
	return fetch[string](ctx, c, "/v1/saved")
}

func (c *Client) Version(ctx context.Context) (device.VersionInfo, error) {
	return fetch[device.VersionInfo](ctx, c, "/v1/version")
}

func (c *Client) CloudStatus(ctx context.Context) (device.CloudStatus, error) {
	return fetch[device.CloudStatus](ctx, c, "/v1/cloud/status")
}

func (c *Client) ResetCloudTunnel(ctx context.Context) error {
	return c.post(ctx, "/v1/cloud/reset", struct{}{}, nil)
}

func (c *Client) Unbind(ctx context.Context, code string) (string, error) {
	var verdict string
	return verdict, c.post(ctx, "/v1/cloud/unbind", unbindBody{Code: code}, &verdict)
}

func (c *Client) DHCPStatus(ctx context.Context) (device.DHCPStatus, error) {
	return fetch[device.DHCPStatus](ctx, c, "/v1/dhcp")
}

func (c *Client) DNSHosts(ctx context.Context) ([]device.DNSHost, error) {
	return fetch[[]device.DNSHost](ctx, c, "/v1/dns/hosts")
}

func (c *Client) Users(ctx context.Context) ([]device.VTYSession, error) {
	return fetch[[]device.VTYSession](ctx, c, "/v1/users")
}

func (c *Client) LogBuffer(ctx context.Context) (logbuf.Snapshot, error) {
	return fetch[logbuf.Snapshot](ctx, c, "/v1/logbuffer")
}
