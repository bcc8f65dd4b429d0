package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// memInfo is a process's resident memory from /proc/<pid>/status.
type memInfo struct {
	RSS     int64 // VmRSS, bytes
	RssAnon int64 // RssAnon, bytes (Linux ≥ 4.5); valid if HasAnon
	HasAnon bool
}

func readMem(pid int) (memInfo, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memInfo{}, err
	}
	defer f.Close()
	return parseStatus(f)
}

// parseStatus reads VmRSS and RssAnon ("VmRSS:   123456 kB") from the
// contents of /proc/<pid>/status.
func parseStatus(r io.Reader) (memInfo, error) {
	var m memInfo
	hasRSS := false
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "RssAnon") {
			continue
		}
		f := strings.Fields(v)
		if len(f) != 2 || f[1] != "kB" {
			return m, fmt.Errorf("unexpected %s line %q", k, sc.Text())
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("bad %s value: %w", k, err)
		}
		if k == "VmRSS" {
			m.RSS, hasRSS = n*1024, true
		} else {
			m.RssAnon, m.HasAnon = n*1024, true
		}
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if !hasRSS {
		return m, errors.New("no VmRSS in status (kernel thread or zombie?)")
	}
	return m, nil
}

// readCPUTicks returns utime+stime of a process in clock ticks.
func readCPUTicks(pid int) (int64, error) {
	ut, st, err := readCPUSplit(pid)
	return ut + st, err
}

// readCPUSplit returns utime and stime of a process in clock ticks.
func readCPUSplit(pid int) (utime, stime int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseStatSplit(b)
}

// parseStat extracts utime (field 14) + stime (field 15) from the
// contents of /proc/<pid>/stat.
func parseStat(b []byte) (int64, error) {
	ut, st, err := parseStatSplit(b)
	return ut + st, err
}

// parseStatSplit extracts utime (field 14) and stime (field 15) from the
// contents of /proc/<pid>/stat. The command name (field 2) is in
// parentheses and may itself contain spaces and parentheses, so fields
// are counted from the last ')'.
func parseStatSplit(b []byte) (utime, stime int64, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errors.New("malformed stat: no ')'")
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state), so field k is f[k-3].
	if len(f) < 13 {
		return 0, 0, errors.New("malformed stat: too few fields")
	}
	ut, err1 := strconv.ParseInt(f[14-3], 10, 64)
	st, err2 := strconv.ParseInt(f[15-3], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("malformed stat: %w", err)
	}
	return ut, st, nil
}

// atClkTck is the auxiliary vector entry that carries sysconf(_SC_CLK_TCK).
const atClkTck = 17

// clockTicks returns the unit of the times in /proc/<pid>/stat, i.e. what
// getconf CLK_TCK prints. glibc's sysconf(_SC_CLK_TCK) takes it from the
// AT_CLKTCK entry that the kernel puts in every process's auxiliary
// vector, which we read from /proc/self/auxv. That is USER_HZ: 100 on
// Linux on every current architecture, whatever the kernel's internal HZ;
// 100 is also the fallback when auxv cannot be read.
func clockTicks() int64 {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return 100
	}
	if v, ok := auxvValue(b, atClkTck, int(unsafe.Sizeof(uintptr(0))), binary.NativeEndian); ok && v > 0 {
		return int64(v)
	}
	return 100
}

// auxvValue looks key up in an auxiliary vector: (key, value) pairs of
// machine words, terminated by AT_NULL.
func auxvValue(b []byte, key uint64, word int, bo binary.ByteOrder) (uint64, bool) {
	get := func(p []byte) uint64 {
		if word == 4 {
			return uint64(bo.Uint32(p))
		}
		return bo.Uint64(p)
	}
	for off := 0; off+2*word <= len(b); off += 2 * word {
		k, v := get(b[off:]), get(b[off+word:])
		if k == 0 {
			break
		}
		if k == key {
			return v, true
		}
	}
	return 0, false
}

// raiseNoFile raises the soft RLIMIT_NOFILE to the hard limit and returns
// the resulting limits. (Go ≥ 1.19 already does this at start-up for the
// process itself; doing it again is harmless and reports the figures.)
func raiseNoFile() (soft, hard uint64, err error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, 0, err
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return rl.Cur, rl.Max, err
		}
	}
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, 0, err
	}
	return rl.Cur, rl.Max, nil
}
