# bash completion for nsx (and for nsenter/lsns/unshare when they are nsx)
#
# Install: copy to /usr/share/bash-completion/completions/nsx, or source it
# from ~/.bashrc. Works with or without the bash-completion package.

_nsx_kinds="mnt net ipc user pid uts cgroup time"
_nsx_ls_columns="NS TYPE PATH NPROCS PID PPID COMMAND UID USER NETNSID NSFS PNS ONS CONTAINER"

# Options of `nsx enter` (nsenter's, plus --explain).
_nsx_enter_opts="-a --all -t --target -m --mount -u --uts -i --ipc -n --net
 -N --net-socket -p --pid -C --cgroup -U --user --user-parent -T --time
 -S --setuid -G --setgid --preserve-credentials --keep-caps -r --root -w --wd
 -W --wdns -e --env -F --no-fork -c --join-cgroup -Z --follow-context
 -h --help -V --version"
# Options that take an argument in the next word when it is not attached.
_nsx_enter_argopts="-t --target -N --net-socket -S --setuid -G --setgid"
_nsx_ls_opts="-J --json -l --list -n --noheadings -o --output --output-all
 -p --task -r --raw -u --notruncate -W --nowrap -t --type -T --tree
 -P --persistent -Q --filter -H --list-columns -h --help -V --version"
_nsx_ls_argopts="-o --output -p --task -t --type -Q --filter"
# Options of `nsx debug`: enter's that make sense there, and its own.
_nsx_debug_opts="-t --target -S --setuid -G --setgid --preserve-credentials
 --keep-caps -W --wdns -e --env -c --join-cgroup --rw --toolbox --explain
 --runtime-endpoint -h --help"
_nsx_ps_opts="-J --json -n --noheadings -u --notruncate -h --help"
_nsx_inspect_opts="-J --json -h --help"

# Running PIDs, lowest first.
_nsx_pids() {
    local d
    for d in /proc/[0-9]*; do
        printf '%s\n' "${d#/proc/}"
    done | sort -n
}

# Container references (docker:web1, ...) of running containers, as nsx ls
# sees them. Reading every process's namespaces may need root; errors and
# slow hosts give an empty list.
_nsx_containers() {
    local nsx=${_nsx_bin:-nsx}
    command -v "$nsx" >/dev/null 2>&1 || return
    timeout 3 "$nsx" ls -o CONTAINER -n 2>/dev/null | sed 's/^[[:space:]]*//; s/[[:space:]]*$//' | grep -v '^$' | sort -u
}

# Targets: PIDs, container references, namespace files for paths.
_nsx_targets() {
    local cur=$1
    case $cur in
        /* | .*) compgen -f -- "$cur" ;;
        [0-9]*) compgen -W "$(_nsx_pids)" -- "$cur" ;;
        *) compgen -W "$(_nsx_containers) $(_nsx_pids)" -- "$cur" ;;
    esac
}

# _nsx_set_reply CUR CANDIDATES...: set COMPREPLY to the candidates, cut to
# the part of the word bash replaces (after the last '=' or ':' when those
# break words, as they do by default).
_nsx_set_reply() {
    local cur=$1 pre="" i c
    shift
    for ((i = ${#cur} - 1; i >= 0; i--)); do
        c=${cur:i:1}
        if [[ ( $c == "=" || $c == ":" ) && $COMP_WORDBREAKS == *"$c"* ]]; then
            pre=${cur:0:i+1}
            break
        fi
    done
    COMPREPLY=()
    local w
    for w in "$@"; do
        [[ -n $w ]] || continue
        COMPREPLY+=("${w#"$pre"}")
    done
}

# Words of the line up to the cursor, split on blanks only, so that
# "--net=/x" and "docker:web1" stay one word. Sets _nsx_w (array) and _nsx_cur.
_nsx_split_line() {
    local line=${COMP_LINE:0:COMP_POINT}
    local IFS=$' \t\n'
    set -f
    # shellcheck disable=SC2206
    _nsx_w=($line)
    set +f
    if [[ $line == *[[:space:]] || -z $line ]]; then
        _nsx_cur=""
    else
        _nsx_cur=${_nsx_w[${#_nsx_w[@]} - 1]}
        unset '_nsx_w[${#_nsx_w[@]}-1]'
    fi
}

_nsx_in() { # _nsx_in WORD LIST
    local x
    for x in $2; do [[ $x == "$1" ]] && return 0; done
    return 1
}

_nsx_complete_files() { # CUR [dirs]
    compopt -o filenames 2>/dev/null
    if [[ $2 == dirs ]]; then
        compgen -d -- "$1"
    else
        compgen -f -- "$1"
    fi
}

# enter (and nsenter when COMPAT is 1, debug when it is "debug"). $1: index
# of the first argument.
_nsx_enter() {
    local first=$1 compat=$2 cur=$_nsx_cur
    local i w hast=0 operand=-1 dashdash=0 prev=""
    local n=${#_nsx_w[@]}
    for ((i = first; i < n; i++)); do
        w=${_nsx_w[i]}
        if ((operand >= 0)); then
            break
        fi
        if ((dashdash)); then
            operand=$i
            break
        fi
        case $w in
            --) dashdash=1 ;;
            -t | --target | --targ | --targe) hast=1; ((i++)) ;;
            --target=* | -t?*) hast=1 ;;
            -N | --net-socket | -S | --setuid | -G | --setgid | --as | --setenv | --workdir | --toolbox | --runtime-endpoint) ((i++)) ;;
            -*) ;;
            *) operand=$i ;;
        esac
    done
    (( n > 0 )) && prev=${_nsx_w[n - 1]}

    # The argument of an option in the previous word.
    if ((operand < 0)) && ! ((dashdash)); then
        case $prev in
            -t | --target)
                _nsx_set_reply "$cur" $(_nsx_targets "$cur"); return ;;
            -S | --setuid)
                _nsx_set_reply "$cur" $(compgen -W "follow $(id -u 2>/dev/null | grep -vx 0) 0" -- "$cur"); return ;;
            -G | --setgid)
                _nsx_set_reply "$cur" $(compgen -W "follow $(id -g 2>/dev/null | grep -vx 0) 0" -- "$cur"); return ;;
            -N | --net-socket | --setenv | --workdir)
                COMPREPLY=(); return ;;
            --as)
                # Names are the target's: the caller's would mislead.
                COMPREPLY=(); return ;;
            --toolbox)
                _nsx_set_reply "$cur" $(compgen -d -- "$cur")
                compopt -o filenames 2>/dev/null
                return ;;
        esac
    fi

    # Options (also with attached values).
    if ((operand < 0)) && ! ((dashdash)) && [[ $cur == -* ]]; then
        case $cur in
            --mount=* | --uts=* | --ipc=* | --net=* | --pid=* | --cgroup=* | --user=* | --time=*)
                local opt=${cur%%=*}
                _nsx_set_reply "$cur" $(compgen -P "$opt=" -f -- "${cur#*=}")
                compopt -o filenames 2>/dev/null
                return ;;
            --root=* | --wd=* | --wdns=* | --toolbox=*)
                local opt=${cur%%=*}
                _nsx_set_reply "$cur" $(compgen -P "$opt=" -d -- "${cur#*=}")
                compopt -o filenames 2>/dev/null
                return ;;
            --target=*)
                _nsx_set_reply "$cur" $(_nsx_targets "${cur#*=}" | sed 's/^/--target=/'); return ;;
            --setuid=* | --setgid=*)
                local opt=${cur%%=*}
                _nsx_set_reply "$cur" $(compgen -P "$opt=" -W "follow" -- "${cur#*=}"); return ;;
        esac
        local opts=$_nsx_enter_opts
        [[ $compat == 1 ]] || opts="$opts --explain --read-only --runtime-endpoint --as --setenv --workdir"
        [[ $compat == debug ]] && opts=$_nsx_debug_opts
        _nsx_set_reply "$cur" $(compgen -W "$opts" -- "$cur")
        return
    fi

    # Operands: the target first (nsx enter without -t), then the program.
    local prog_index=$operand
    if [[ $compat != 1 ]] && ((hast == 0)); then
        if ((operand < 0)); then
            _nsx_set_reply "$cur" $(_nsx_targets "$cur")
            return
        fi
        prog_index=$((operand + 1))
        [[ ${_nsx_w[prog_index]} == -- ]] && ((prog_index++))
        if ((n <= operand + 1)); then
            # The word right after the target: "--" or the program.
            if [[ $cur == -* ]]; then
                COMPREPLY=(--)
                return
            fi
        fi
    fi
    if ((prog_index < 0 || prog_index >= n)); then
        # Completing the program name itself.
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -c -- "$cur"))
        return
    fi
    # Arguments of the program: files.
    COMPREPLY=($(_nsx_complete_files "$cur"))
}

# ls (and lsns when COMPAT is set).
_nsx_ls() {
    local first=$1 compat=$2 cur=$_nsx_cur
    local n=${#_nsx_w[@]} prev=""
    (( n > first )) && prev=${_nsx_w[n - 1]}
    case $prev in
        -t | --type)
            _nsx_set_reply "$cur" $(compgen -W "$_nsx_kinds" -- "$cur"); return ;;
        -p | --task)
            _nsx_set_reply "$cur" $(compgen -W "$(_nsx_pids)" -- "$cur"); return ;;
        -o | --output)
            _nsx_ls_output "$cur" "" "$compat"; return ;;
        --container)
            _nsx_set_reply "$cur" $(compgen -W "$(_nsx_containers)" -- "$cur"); return ;;
        -Q | --filter)
            # An expression: offer the column names to start it with.
            local cols=$_nsx_ls_columns
            [[ $compat == 1 ]] && cols=${cols% CONTAINER}
            _nsx_set_reply "$cur" $(compgen -W "$cols" -- "$cur"); return ;;
    esac
    case $cur in
        --type=*)
            _nsx_set_reply "$cur" $(compgen -P --type= -W "$_nsx_kinds" -- "${cur#*=}"); return ;;
        --task=*)
            _nsx_set_reply "$cur" $(compgen -P --task= -W "$(_nsx_pids)" -- "${cur#*=}"); return ;;
        --tree=* | -T*)
            local pre=${cur%%=*}=
            [[ $cur == -T* ]] && pre=-T
            _nsx_set_reply "$cur" $(compgen -P "$pre" -W "parent owner process" -- "${cur#"$pre"}"); return ;;
        --output=*)
            _nsx_ls_output "${cur#*=}" --output= "$compat"; return ;;
        --container=*)
            _nsx_set_reply "$cur" $(compgen -P --container= -W "$(_nsx_containers)" -- "${cur#*=}"); return ;;
        -*)
            local opts=$_nsx_ls_opts
            [[ $compat == 1 ]] || opts="$opts --container"
            _nsx_set_reply "$cur" $(compgen -W "$opts" -- "$cur")
            return ;;
    esac
    COMPREPLY=() # a namespace inode: nothing useful to offer
}

# Column lists: complete the last comma-separated element.
_nsx_ls_output() {
    local val=$1 optpre=$2 compat=$3 head="" last
    local cols=$_nsx_ls_columns
    [[ $compat == 1 ]] && cols=${cols% CONTAINER}
    if [[ $val == *,* ]]; then
        head=${val%,*},
        last=${val##*,}
    else
        last=$val
        if [[ $val == +* ]]; then
            head=+
            last=${val#+}
        fi
    fi
    _nsx_set_reply "$optpre$val" $(compgen -P "$optpre$head" -W "$cols" -- "${last^^}")
    compopt -o nospace 2>/dev/null
}

_nsx_target_cmd() { # ps, inspect
    local opts=$1 cur=$_nsx_cur
    if [[ $cur == -* ]]; then
        _nsx_set_reply "$cur" $(compgen -W "$opts" -- "$cur")
        return
    fi
    _nsx_set_reply "$cur" $(_nsx_targets "$cur")
}

# unshare (and unshare when COMPAT is set): util-linux 2.41's options.
_nsx_unshare_opts="-m --mount -u --uts -i --ipc -n --net -p --pid -U --user
 -C --cgroup -T --time -f --fork --kill-child --mount-proc --propagation
 -R --root -w --wd -S --setuid -G --setgid --map-user --map-group
 -r --map-root-user -c --map-current-user --map-auto --map-subids --map-users
 --map-groups --setgroups --keep-caps --monotonic --boottime -h --help
 -V --version"
_nsx_unshare_argopts="--propagation -R --root -w --wd -S --setuid -G --setgid
 --map-user --map-group --map-users --map-groups --setgroups --monotonic
 --boottime -l --load-interp"
_nsx_signals="SIGKILL SIGTERM SIGINT SIGHUP SIGQUIT SIGUSR1 SIGUSR2"

_nsx_unshare() {
    local first=$1 cur=$_nsx_cur
    local i w operand=-1 n=${#_nsx_w[@]} prev=""
    for ((i = first; i < n; i++)); do
        w=${_nsx_w[i]}
        case $w in
            --) operand=$((i + 1)); break ;;
            -*) _nsx_in "$w" "$_nsx_unshare_argopts" && ((i++)) ;;
            *) operand=$i; break ;;
        esac
    done
    (( n > first )) && prev=${_nsx_w[n - 1]}
    if ((operand < 0)); then
        case $prev in
            --propagation)
                _nsx_set_reply "$cur" $(compgen -W "private shared slave unchanged" -- "$cur"); return ;;
            --setgroups)
                _nsx_set_reply "$cur" $(compgen -W "allow deny" -- "$cur"); return ;;
            -R | --root | -w | --wd)
                COMPREPLY=($(_nsx_complete_files "$cur" dirs)); return ;;
            --map-user)
                _nsx_set_reply "$cur" $(compgen -u -- "$cur"); return ;;
            --map-group)
                _nsx_set_reply "$cur" $(compgen -g -- "$cur"); return ;;
            --map-users | --map-groups)
                _nsx_set_reply "$cur" $(compgen -W "auto subids all" -- "$cur"); return ;;
            -S | --setuid | -G | --setgid | --monotonic | --boottime)
                COMPREPLY=(); return ;;
        esac
        case $cur in
            --mount=* | --uts=* | --ipc=* | --net=* | --pid=* | --cgroup=* | --user=* | --time=*)
                local opt=${cur%%=*}
                _nsx_set_reply "$cur" $(compgen -P "$opt=" -f -- "${cur#*=}")
                compopt -o filenames 2>/dev/null
                return ;;
            --mount-proc=* | --root=* | --wd=*)
                local opt=${cur%%=*}
                _nsx_set_reply "$cur" $(compgen -P "$opt=" -d -- "${cur#*=}")
                compopt -o filenames 2>/dev/null
                return ;;
            --kill-child=*)
                _nsx_set_reply "$cur" $(compgen -P --kill-child= -W "$_nsx_signals" -- "${cur#*=}"); return ;;
            --propagation=*)
                _nsx_set_reply "$cur" $(compgen -P --propagation= -W "private shared slave unchanged" -- "${cur#*=}"); return ;;
            --setgroups=*)
                _nsx_set_reply "$cur" $(compgen -P --setgroups= -W "allow deny" -- "${cur#*=}"); return ;;
            -*)
                _nsx_set_reply "$cur" $(compgen -W "$_nsx_unshare_opts" -- "$cur"); return ;;
        esac
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -c -- "$cur"))
        return
    fi
    if ((operand >= n)); then
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -c -- "$cur"))
        return
    fi
    COMPREPLY=($(_nsx_complete_files "$cur"))
}

_nsx() {
    local _nsx_w _nsx_cur _nsx_bin=${COMP_WORDS[0]}
    _nsx_split_line
    COMPREPLY=()
    case ${_nsx_w[0]##*/} in
        nsenter) _nsx_enter 1 1; return ;;
        lsns) _nsx_ls 1 1; return ;;
        unshare) _nsx_unshare 1; return ;;
    esac
    local commands="enter debug ls ps inspect unshare help version"
    if ((${#_nsx_w[@]} < 2)); then
        _nsx_set_reply "$_nsx_cur" $(compgen -W "$commands -h --help -V --version" -- "$_nsx_cur")
        return
    fi
    case ${_nsx_w[1]} in
        enter) _nsx_enter 2 0 ;;
        debug) _nsx_enter 2 debug ;;
        ls) _nsx_ls 2 0 ;;
        ps) _nsx_target_cmd "$_nsx_ps_opts" ;;
        inspect) _nsx_target_cmd "$_nsx_inspect_opts" ;;
        unshare) _nsx_unshare 2 ;;
        help)
            ((${#_nsx_w[@]} == 2)) && COMPREPLY=($(compgen -W "enter debug ls ps inspect unshare" -- "$_nsx_cur")) ;;
    esac
}

complete -F _nsx nsx

# nsenter and lsns: only when they are nsx, so that util-linux's own
# completions stay in charge otherwise.
_nsx_is_nsx() {
    local p
    p=$(command -v "$1" 2>/dev/null) || return 1
    p=$(readlink -f "$p" 2>/dev/null) || return 1
    [[ ${p##*/} == nsx ]]
}
_nsx_is_nsx nsenter && complete -F _nsx nsenter
_nsx_is_nsx lsns && complete -F _nsx lsns
_nsx_is_nsx unshare && complete -F _nsx unshare
unset -f _nsx_is_nsx
