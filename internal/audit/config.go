package audit

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// ConfigPath is where root configures the audit trail. It is fixed on
// purpose: a path taken from the command line or the environment would let
// the person being audited choose where, or whether, the record goes.
const ConfigPath = "/etc/nsx/nsx.conf"

// syslogSocket is the local syslog daemon's socket, as glibc's syslog(3)
// uses it. Its presence makes syslog the default.
const syslogSocket = "/dev/log"

const maxConfigSize = 64 << 10

// Where a record goes (Config.Sink).
const (
	SinkOff    = "off"
	SinkSyslog = "syslog"
	SinkFile   = "file"
)

// Config is the parsed nsx.conf(5).
type Config struct {
	// Sink is SinkSyslog, SinkFile or SinkOff.
	Sink string
	// Path is the log file of SinkFile.
	Path string
	// Required refuses to run a program whose start record cannot be
	// written (audit-required = true).
	Required bool
}

// LoadConfig reads ConfigPath. A missing file gives the defaults: syslog
// when /dev/log exists, else off, and audit-required false. A file that is
// not a regular file owned by root and writable by root alone, or that does
// not parse, is an error: nsx then refuses to run rather than guess what
// root meant.
func LoadConfig() (*Config, error) {
	cfg, err := loadConfig(ConfigPath)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	return cfg, nil
}

func loadConfig(path string) (*Config, error) {
	cfg := &Config{Sink: SinkOff}
	if _, err := os.Stat(syslogSocket); err == nil {
		cfg.Sink = SinkSyslog
	}
	// Whoever can write the directory can delete the file, and with it
	// audit-required: the directory must be root's too.
	if fi, err := os.Stat(filepath.Dir(path)); err == nil {
		if err := trustedDir(fi); err != nil {
			return nil, fmt.Errorf("%s: %s: refusing it", filepath.Dir(path), err)
		}
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if errors.Is(err, unix.ENOENT) {
		return cfg, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := trusted(fi); err != nil {
		return nil, fmt.Errorf("%s: %s: refusing it", path, err)
	}
	// The file is small; a bound keeps a mistake (a log file configured
	// here) from costing more than a little reading.
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxConfigSize)
	}
	if err := parseConfig(cfg, string(data), path); err != nil {
		return nil, err
	}
	return cfg, nil
}

// trusted accepts what only root could have written: the same rule sudo
// applies to sudoers.
func trusted(fi fs.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	return trustedOwner(fi)
}

func trustedDir(fi fs.FileInfo) error {
	if !fi.IsDir() {
		return errors.New("not a directory")
	}
	return trustedOwner(fi)
}

func trustedOwner(fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("cannot tell its owner")
	}
	if st.Uid != 0 {
		return fmt.Errorf("owned by uid %d, not root", st.Uid)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("mode %04o is group- or world-writable", fi.Mode().Perm())
	}
	return nil
}

// parseConfig applies "key = value" lines to cfg. Blank lines and lines
// whose first non-blank character is '#' are comments; anything else that
// is not a known key with a valid value is an error naming the line, and so
// is a key given twice, which would leave the reader to guess which wins.
func parseConfig(cfg *Config, text, name string) error {
	seen := map[string]int{}
	for i, line := range strings.Split(text, "\n") {
		no := i + 1
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return fmt.Errorf("%s:%d: expected key = value, got %q", name, no, line)
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if prev, dup := seen[key]; dup {
			return fmt.Errorf("%s:%d: %s already set on line %d", name, no, key, prev)
		}
		switch key {
		case "audit":
			switch {
			case value == SinkOff || value == SinkSyslog:
				cfg.Sink, cfg.Path = value, ""
			case strings.HasPrefix(value, "file:"):
				p := strings.TrimPrefix(value, "file:")
				if !strings.HasPrefix(p, "/") {
					return fmt.Errorf("%s:%d: audit = file:PATH needs an absolute path, got %q", name, no, p)
				}
				cfg.Sink, cfg.Path = SinkFile, p
			default:
				return fmt.Errorf("%s:%d: audit must be syslog, file:/PATH or off, got %q", name, no, value)
			}
		case "audit-required":
			switch value {
			case "true":
				cfg.Required = true
			case "false":
				cfg.Required = false
			default:
				return fmt.Errorf("%s:%d: audit-required must be true or false, got %q", name, no, value)
			}
		default:
			return fmt.Errorf("%s:%d: unknown key %q", name, no, key)
		}
		seen[key] = no
	}
	return nil
}
