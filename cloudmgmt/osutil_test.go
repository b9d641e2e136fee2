package cloudmgmt

import "os"

func osMkdirTemp() (string, error) { return os.MkdirTemp("", "cloudmgmt-tls-") }
