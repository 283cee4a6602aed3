package audit

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// A sink frames a record and writes it in one system call, so that records
// of concurrent runs never interleave.
type sink interface {
	format(rec *Record) ([]byte, error)
	write(line []byte) error
	String() string
}

// syslogPriority is facility authpriv with severity notice, what sudo logs
// commands with: the facility a site's syslog already keeps private.
const syslogPriority = 10<<3 | 5

// maxSyslogMessage keeps a record within rsyslog's default maximum message
// size (8 KiB) with room for the header, so that no daemon cuts the JSON.
const maxSyslogMessage = 8000

// sendTimeout bounds the wait for a syslog daemon that does not read its
// socket: a stuck daemon must not hang an operator's shell.
const sendTimeout = 5 * time.Second

// syslogSink sends each record as one datagram to /dev/log, framed as
// glibc's syslog(3) frames it (RFC 3164 style, without the host, which the
// daemon adds): "<85>Dec  1 21:16:35 nsx[PID]: {json}". It speaks the
// socket with raw system calls; it needs no connection state between
// records.
type syslogSink struct{ socket string }

func (s syslogSink) String() string { return "syslog (" + s.socket + ")" }

func (syslogSink) format(rec *Record) ([]byte, error) {
	msg, err := marshalWithin(rec, maxSyslogMessage)
	if err != nil {
		return nil, err
	}
	head := "<" + strconv.Itoa(syslogPriority) + ">" + time.Now().Format(time.Stamp) + " nsx[" + strconv.Itoa(os.Getpid()) + "]: "
	return append([]byte(head), msg...), nil
}

func (s syslogSink) write(line []byte) error {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	stream := false
	err = unix.Connect(fd, &unix.SockaddrUnix{Name: s.socket})
	if errors.Is(err, unix.EPROTOTYPE) {
		// Some daemons listen on a stream socket; glibc falls back the
		// same way and ends each message with a NUL there.
		unix.Close(fd)
		if fd, err = unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0); err != nil {
			return os.NewSyscallError("socket", err)
		}
		stream = true
		err = unix.Connect(fd, &unix.SockaddrUnix{Name: s.socket})
	}
	defer unix.Close(fd)
	if err != nil {
		return os.NewSyscallError("connect", err)
	}
	tv := unix.NsecToTimeval(sendTimeout.Nanoseconds())
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	if stream {
		line = append(line, 0)
	}
	return writeOnce(fd, line)
}

// fileSink appends JSON lines to a file root named. It opens the file for
// every record, so that a log rotated between the start and end records
// gets the end record in the new file.
type fileSink struct{ path string }

func (s fileSink) String() string { return s.path }

func (fileSink) format(rec *Record) ([]byte, error) {
	line, err := marshal(rec)
	if err != nil {
		return nil, err
	}
	return append(line, '\n'), nil
}

func (s fileSink) write(line []byte) error {
	// O_NOFOLLOW: a symlink planted where the log goes must not send
	// records (or a created file) elsewhere; O_NONBLOCK: a FIFO there
	// must not hang nsx at open.
	fd, err := unix.Open(s.path, unix.O_WRONLY|unix.O_APPEND|unix.O_CREAT|unix.O_CLOEXEC|unix.O_NOFOLLOW|unix.O_NOCTTY|unix.O_NONBLOCK, 0o600)
	if err != nil {
		return os.NewSyscallError("open", err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return os.NewSyscallError("fstat", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return errors.New("not a regular file")
	}
	return writeOnce(fd, line)
}

// writeOnce writes line in a single write(2): a short write would split a
// record, so it is an error rather than a reason to write the rest later.
func writeOnce(fd int, line []byte) error {
	for {
		n, err := unix.Write(fd, line)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("write", err)
		}
		if n != len(line) {
			return fmt.Errorf("short write: %d of %d bytes", n, len(line))
		}
		return nil
	}
}
