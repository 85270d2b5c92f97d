/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * local.c - a session over a local holder's AF_UNIX socket instead of
 * the network (xmp_session_opts.local_socket).  The kernel vouches for
 * who is at the other end (the holder checks our uid), so the stream
 * skips STARTTLS and SASL and goes straight to binding.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "session_int.h"

enum xmp_err session_start_local(struct xmp_session *s)
{
    struct sockaddr_un sa;
    struct xmp_error e;
    int fd;

    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(s->cfg.local) >= sizeof sa.sun_path)
        return session_fail(s, XMP_EUSAGE, "socket path too long: %s",
                            s->cfg.local);
    memcpy(sa.sun_path, s->cfg.local, strlen(s->cfg.local));
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return session_fail(s, XMP_ESYS, "cannot create a socket: %s",
                            strerror(errno));
    /* A listening unix socket accepts at once or not at all. */
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int en = errno;

        close(fd);
        return session_fail(s, XMP_EUNREACH,
                            "cannot connect to session holder %s: %s",
                            s->cfg.local, strerror(en));
    }
    /* and the other end must be ours as well: a socket someone else
     * put there is not a holder to tell our stanzas to */
    {
        struct ucred cr;
        socklen_t len = sizeof cr;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 ||
            len != sizeof cr || cr.uid != geteuid()) {
            close(fd);
            return session_fail(s, XMP_EAUTH,
                                "session holder %s does not run as our "
                                "user",
                                s->cfg.local);
        }
    }
    if (stream_attach(&s->st, fd, s->cfg.local, &e) != XMP_OK) {
        close(fd);
        return session_fail_with(s, &e);
    }
    snprintf(s->target.host, sizeof s->target.host, "%s", "local holder");
    snprintf(s->address, sizeof s->address, "%s", "unix socket");
    s->target.found_by = "session holder";
    negotiate_trusted(s);
    s->state = ST_CONNECTING;
    s->wait_since = xmp_now_ms();
    session_trace(s, XMP_TRACE_INFO, "connected to session holder %s",
                  s->cfg.local);
    if (stream_open(&s->st, s->jid.domain, s->bare, &e) != XMP_OK)
        return session_fail_with(s, &e);
    s->state = ST_WAIT_FEATURES;
    return XMP_OK;
}
