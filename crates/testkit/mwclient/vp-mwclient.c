/*
 * vp-mwclient: a scriptable Sametime VP client on Debian's libmeanwhile, the
 * harness of docs spec vp-protocol.md section 12.3. Simul's tests drive it
 * through simul_testkit::MwClient so that the VP door is tested against the
 * protocol code stock clients (Pidgin's plugin) really run, not against our
 * own idea of it.
 *
 *   vp-mwclient HOST PORT USER PASSWORD [--token TOKEN] [--no-cipher]
 *               [--auto-accept]
 *
 * Commands are read from stdin, one per line; events are written to stdout,
 * one per line, flushed at once, keyword first, codes in hex. Control
 * characters in texts are escaped (\n, \r, \t, \xNN) so that every event
 * stays on one line. See the table at the end of print_usage() and
 * crates/testkit/src/mwclient.rs.
 *
 * Every libmeanwhile callback checks its pointers: the server under test may
 * send anything, and a crash here would hide what it sent.
 *
 * Build: gcc -o vp-mwclient vp-mwclient.c \
 *          $(pkg-config --cflags --libs meanwhile glib-2.0)
 */

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <glib.h>

#include <meanwhile/mw_cipher.h>
#include <meanwhile/mw_common.h>
#include <meanwhile/mw_error.h>
#include <meanwhile/mw_message.h>
#include <meanwhile/mw_service.h>
#include <meanwhile/mw_session.h>
#include <meanwhile/mw_srvc_aware.h>
#include <meanwhile/mw_srvc_conf.h>
#include <meanwhile/mw_srvc_ft.h>
#include <meanwhile/mw_srvc_im.h>
#include <meanwhile/mw_srvc_resolve.h>
#include <meanwhile/mw_srvc_store.h>
#include <meanwhile/mw_st_list.h>

/* ---- state ---------------------------------------------------------- */

static GMainLoop *loop;
static struct mwSession *session;
static struct mwServiceAware *srvc_aware;
static struct mwAwareList *aware_list;
static struct mwServiceIm *srvc_im;
static struct mwServiceConference *srvc_conf;
static struct mwServiceStorage *srvc_store;
static struct mwServiceResolve *srvc_resolve;
static struct mwServiceFileTransfer *srvc_ft;

static int sock = -1;
static guint sock_watch;
static guint stdin_watch;
static gboolean debug;
static gboolean auto_accept;
static const char *token;
static int exit_code;

/* The conference chat_say and friends act on, and the last invitation. */
static struct mwConference *current_conf;
static struct mwConference *invited_conf;

/* The last file offered to us, while it waits for file_accept or
   file_decline, and the file being sent, while a file_send lasts. */
static struct mwFileTransfer *offered_ft;
static struct mwFileTransfer *sending_ft;

/* user id -> GPtrArray of texts waiting for the conversation to open. */
static GHashTable *pending_ims;

/* ---- output --------------------------------------------------------- */

static const char *S(const char *s) { return s ? s : ""; }

/* Appends s to out with control characters escaped, so one event is one
   line whatever the server sends. */
static void append_escaped(GString *out, const char *s) {
  const unsigned char *p;
  for (p = (const unsigned char *)S(s); *p; p++) {
    switch (*p) {
    case '\n': g_string_append(out, "\\n"); break;
    case '\r': g_string_append(out, "\\r"); break;
    case '\t': g_string_append(out, "\\t"); break;
    default:
      if (*p < 0x20 || *p == 0x7f)
        g_string_append_printf(out, "\\x%02x", *p);
      else
        g_string_append_c(out, (char)*p);
    }
  }
}

/* Prints one event: the format's %s arguments are escaped. Only %s, %u,
   %x, %04x, %08x and %d are used, so a tiny formatter suffices and no
   text from the server can break the line structure. */
static void event(const char *fmt, ...) {
  GString *out = g_string_new(NULL);
  va_list ap;
  const char *f;
  va_start(ap, fmt);
  for (f = fmt; *f; f++) {
    if (*f != '%') {
      g_string_append_c(out, *f);
      continue;
    }
    f++;
    if (*f == 's') {
      append_escaped(out, va_arg(ap, const char *));
    } else if (*f == 'u') {
      g_string_append_printf(out, "%u", va_arg(ap, unsigned int));
    } else if (*f == 'd') {
      g_string_append_printf(out, "%d", va_arg(ap, int));
    } else if (*f == 'x') {
      g_string_append_printf(out, "%x", va_arg(ap, unsigned int));
    } else if (f[0] == '0' && f[1] && f[2] == 'x') {
      char spec[8];
      g_snprintf(spec, sizeof spec, "%%0%cx", f[1]);
      g_string_append_printf(out, spec, va_arg(ap, unsigned int));
      f += 2;
    } else if (*f == '%') {
      g_string_append_c(out, '%');
    } else {
      break;
    }
  }
  va_end(ap);
  fputs(out->str, stdout);
  fputc('\n', stdout);
  fflush(stdout);
  g_string_free(out, TRUE);
}

static void log_handler(const gchar *domain, GLogLevelFlags level,
                        const gchar *message, gpointer data) {
  (void)level;
  (void)data;
  /* libmeanwhile logs every message it parses; only a debugging human
     wants that, and never on stdout, which carries the events. */
  if (debug)
    fprintf(stderr, "[%s] %s\n", S(domain), S(message));
}

/* ---- socket --------------------------------------------------------- */

static void close_socket(void) {
  if (sock_watch) {
    g_source_remove(sock_watch);
    sock_watch = 0;
  }
  if (sock >= 0) {
    shutdown(sock, SHUT_RDWR);
    close(sock);
    sock = -1;
  }
}

/* Writes everything; MSG_NOSIGNAL because a server that hung up must give
   an error here, not kill the harness with SIGPIPE. */
static int write_all(const guchar *buf, gsize len) {
  while (len > 0) {
    ssize_t n;
    if (sock < 0)
      return -1;
    n = send(sock, buf, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    buf += n;
    len -= (gsize)n;
  }
  return 0;
}

/* With --token, turns libmeanwhile's password LOGIN into a token LOGIN
   (auth type 1, auth data `str token`, spec 4.6 item 2): libmeanwhile 1.1.1
   never sends one itself. Returns the rewritten frame or NULL to send buf
   unchanged. mwSession_send writes a whole frame (u32 length + message) per
   call, which is what makes this recognition reliable. */
static struct mwOpaque *rewrite_login(const guchar *buf, gsize len) {
  struct mwOpaque msg_bytes;
  struct mwGetBuffer *gb;
  struct mwMessage *msg;
  struct mwMsgLogin *login;
  struct mwPutBuffer *pb;
  struct mwOpaque body;
  struct mwOpaque *frame;
  guint32 frame_len;

  if (!token || len < 6)
    return NULL;
  frame_len = ((guint32)buf[0] << 24) | ((guint32)buf[1] << 16) |
              ((guint32)buf[2] << 8) | (guint32)buf[3];
  if (frame_len != len - 4 || buf[4] != 0x00 || buf[5] != 0x01)
    return NULL;

  msg_bytes.len = len - 4;
  msg_bytes.data = (guchar *)buf + 4;
  gb = mwGetBuffer_wrap(&msg_bytes);
  msg = mwMessage_get(gb);
  mwGetBuffer_free(gb);
  if (!msg)
    return NULL;
  if (msg->type != mwMessage_LOGIN) {
    mwMessage_free(msg);
    return NULL;
  }
  login = (struct mwMsgLogin *)msg;
  login->auth_type = mwAuthType_TOKEN;
  mwOpaque_clear(&login->auth_data);
  pb = mwPutBuffer_new();
  mwString_put(pb, token);
  mwPutBuffer_finalize(&login->auth_data, pb);

  pb = mwPutBuffer_new();
  mwMessage_put(pb, msg);
  mwPutBuffer_finalize(&body, pb);
  mwMessage_free(msg);

  pb = mwPutBuffer_new();
  mwOpaque_put(pb, &body); /* u32 length, then the message */
  mwOpaque_clear(&body);
  frame = g_new0(struct mwOpaque, 1);
  mwPutBuffer_finalize(frame, pb);
  return frame;
}

/* Reports the auth type of a LOGIN frame on its way out (LOGIN_SENT), so
   that tests see which login cipher libmeanwhile chose from the server's
   HANDSHAKE_ACK (spec 4.3): 0x0004 RC2/128, 0x0002 RC2/40, 0x0001 token. */
static void report_login(const guchar *buf, gsize len) {
  struct mwOpaque msg_bytes;
  struct mwGetBuffer *gb;
  struct mwMessage *msg;
  guint32 frame_len;

  if (len < 6)
    return;
  frame_len = ((guint32)buf[0] << 24) | ((guint32)buf[1] << 16) |
              ((guint32)buf[2] << 8) | (guint32)buf[3];
  if (frame_len != len - 4 || buf[4] != 0x00 || buf[5] != 0x01)
    return;
  msg_bytes.len = len - 4;
  msg_bytes.data = (guchar *)buf + 4;
  gb = mwGetBuffer_wrap(&msg_bytes);
  msg = mwMessage_get(gb);
  mwGetBuffer_free(gb);
  if (!msg)
    return;
  if (msg->type == mwMessage_LOGIN)
    event("LOGIN_SENT auth_type=0x%04x",
          (unsigned)((struct mwMsgLogin *)msg)->auth_type);
  mwMessage_free(msg);
}

static int io_write(struct mwSession *s, const guchar *buf, gsize len) {
  struct mwOpaque *frame;
  int ret;
  (void)s;
  if (!buf)
    return -1;
  frame = rewrite_login(buf, len);
  if (!frame) {
    report_login(buf, len);
    return write_all(buf, len);
  }
  report_login(frame->data, frame->len);
  ret = write_all(frame->data, frame->len);
  mwOpaque_free(frame);
  return ret;
}

static void io_close(struct mwSession *s) {
  (void)s;
  close_socket();
}

static gboolean on_socket(GIOChannel *chan, GIOCondition cond, gpointer data) {
  guchar buf[4096];
  ssize_t n;
  (void)chan;
  (void)cond;
  (void)data;
  if (sock < 0) {
    sock_watch = 0;
    return FALSE;
  }
  n = recv(sock, buf, sizeof buf, 0);
  if (n < 0 && errno == EINTR)
    return TRUE;
  if (n > 0) {
    /* May stop the session and close the socket (io_close) from within. */
    mwSession_recv(session, buf, (gsize)n);
    return sock >= 0;
  }
  /* The server closed the connection (or reset it). */
  sock_watch = 0;
  if (n < 0)
    event("DISCONNECTED %s", g_strerror(errno));
  else
    event("DISCONNECTED");
  if (sock >= 0) {
    close(sock);
    sock = -1;
  }
  if (session && !mwSession_isStopped(session) &&
      !mwSession_isStopping(session))
    mwSession_stop(session, CONNECTION_BROKEN); /* reports STOPPED */
  else
    g_main_loop_quit(loop);
  return FALSE;
}

static int connect_to(const char *host, const char *port) {
  struct addrinfo hints, *res = NULL, *ai;
  int fd = -1, rc, err = 0;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  rc = getaddrinfo(host, port, &hints, &res);
  if (rc != 0) {
    event("DISCONNECTED cannot resolve %s: %s", host, gai_strerror(rc));
    return -1;
  }
  for (ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
      break;
    err = errno;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0)
    event("DISCONNECTED cannot connect to %s port %s: %s", host, port,
          g_strerror(err));
  return fd;
}

/* ---- session -------------------------------------------------------- */

static void on_state(struct mwSession *s, enum mwSessionState state,
                     gpointer info) {
  if (state == mwSession_STARTED) {
    struct mwLoginInfo *li = mwSession_getLoginInfo(s);
    event("LOGGED_IN user_id=%s login_id=%s community=%s name=%s",
          li ? S(li->user_id) : "", li ? S(li->login_id) : "",
          li ? S(li->community) : "", li ? S(li->user_name) : "");
  } else if (state == mwSession_STOPPED) {
    guint32 reason = GPOINTER_TO_UINT(info);
    char *text = mwError(reason);
    event("STOPPED 0x%08x %s", reason, S(text));
    g_free(text);
    exit_code = reason == ERR_SUCCESS ? 0 : 1;
    g_main_loop_quit(loop);
  } else if (state == mwSession_LOGIN_REDIR) {
    event("REDIRECT %s", S((const char *)info));
  }
}

static void on_admin(struct mwSession *s, const char *text) {
  (void)s;
  event("ADMIN %s", S(text));
}

static void on_announce(struct mwSession *s, struct mwLoginInfo *from,
                        gboolean may_reply, const char *text) {
  (void)s;
  event("ANNOUNCE from=%s may_reply=%d text=%s", from ? S(from->user_id) : "",
        may_reply ? 1 : 0, S(text));
}

static struct mwSessionHandler session_handler = {
    .io_write = io_write,
    .io_close = io_close,
    .on_stateChange = on_state,
    .on_admin = on_admin,
    .on_announce = on_announce,
};

/* ---- awareness ------------------------------------------------------ */

static void aware_srvc_attrib(struct mwServiceAware *srvc,
                              struct mwAwareAttribute *attrib) {
  (void)srvc;
  (void)attrib;
}

static void aware_srvc_clear(struct mwServiceAware *srvc) { (void)srvc; }

static struct mwAwareHandler aware_handler = {
    .on_attrib = aware_srvc_attrib,
    .clear = aware_srvc_clear,
};

static void on_aware(struct mwAwareList *list, struct mwAwareSnapshot *snap) {
  (void)list;
  if (!snap)
    return;
  event("PRESENCE %s online=%d status=0x%04x msg=%s", S(snap->id.user),
        snap->online ? 1 : 0, (unsigned)snap->status.status,
        S(snap->status.desc));
}

/* Called for the attributes the list watches (file transfer, as Pidgin
   watches it): the value as Pidgin reads it (mwAwareAttribute_asBoolean). */
static void on_aware_attrib(struct mwAwareList *list, struct mwAwareIdBlock *id,
                            struct mwAwareAttribute *attrib) {
  (void)list;
  if (!id || !attrib)
    return;
  event("ATTRIBUTE %s key=0x%x value=%d", S(id->user),
        (unsigned)mwAwareAttribute_getKey(attrib),
        mwAwareAttribute_asBoolean(attrib) ? 1 : 0);
}

static void aware_list_clear(struct mwAwareList *list) { (void)list; }

static struct mwAwareListHandler aware_list_handler = {
    .on_aware = on_aware,
    .on_attrib = on_aware_attrib,
    .clear = aware_list_clear,
};

/* ---- IM ------------------------------------------------------------- */

static const char *conv_user(struct mwConversation *conv) {
  struct mwIdBlock *target = conv ? mwConversation_getTarget(conv) : NULL;
  return target ? S(target->user) : "";
}

static void send_pending(struct mwConversation *conv) {
  GPtrArray *texts = g_hash_table_lookup(pending_ims, conv_user(conv));
  guint i;
  if (!texts)
    return;
  for (i = 0; i < texts->len; i++)
    mwConversation_send(conv, mwImSend_PLAIN, g_ptr_array_index(texts, i));
  g_hash_table_remove(pending_ims, conv_user(conv));
}

static void im_opened(struct mwConversation *conv) {
  if (!conv)
    return;
  /* No encrypted=… here: mwConversation_isEncrypted is declared in
     mw_srvc_im.h but libmeanwhile 1.1.1 does not export it. */
  event("IM_OPENED %s", conv_user(conv));
  send_pending(conv);
}

static void im_closed(struct mwConversation *conv, guint32 err) {
  if (!conv)
    return;
  event("IM_CLOSED %s 0x%08x", conv_user(conv), err);
  /* Texts that never went out are reported by the IM_CLOSED above. */
  g_hash_table_remove(pending_ims, conv_user(conv));
}

static void im_recv(struct mwConversation *conv, enum mwImSendType type,
                    gconstpointer msg) {
  if (!conv)
    return;
  switch (type) {
  case mwImSend_PLAIN:
    event("IM %s %s", conv_user(conv), S(msg));
    break;
  case mwImSend_TYPING:
    event("TYPING %s %d", conv_user(conv), GPOINTER_TO_INT(msg) ? 1 : 0);
    break;
  case mwImSend_HTML:
    event("IM_HTML %s %s", conv_user(conv), S(msg));
    break;
  case mwImSend_SUBJECT:
    event("IM_SUBJECT %s %s", conv_user(conv), S(msg));
    break;
  case mwImSend_MIME:
    event("IM_MIME %s %s", conv_user(conv), S(msg));
    break;
  case mwImSend_TIMESTAMP:
    event("IM_TIMESTAMP %s %s", conv_user(conv), S(msg));
    break;
  default:
    event("IM_OTHER %s type=%u", conv_user(conv), (unsigned)type);
  }
}

static void im_clear(struct mwServiceIm *srvc) { (void)srvc; }

static struct mwImHandler im_handler = {
    .conversation_opened = im_opened,
    .conversation_closed = im_closed,
    .conversation_recv = im_recv,
    .place_invite = NULL, /* so that Place invitations arrive as conferences */
    .clear = im_clear,
};

/* ---- conference ----------------------------------------------------- */

/* Accepts an invitation from the main loop rather than from inside
   libmeanwhile's channel-create handling; the conference must still be the
   pending invitation (conf_closed forgets it). */
static gboolean accept_later(gpointer conf) {
  if (conf && conf == invited_conf)
    mwConference_accept(invited_conf);
  return FALSE;
}

static void conf_invited(struct mwConference *conf, struct mwLoginInfo *inviter,
                         const char *text) {
  if (!conf)
    return;
  invited_conf = conf;
  event("CHAT_INVITED %s from=%s text=%s", S(mwConference_getName(conf)),
        inviter ? S(inviter->user_id) : "", S(text));
  if (auto_accept)
    g_idle_add(accept_later, conf);
}

static void conf_opened(struct mwConference *conf, GList *members) {
  GString *list = g_string_new(NULL);
  GList *l;
  if (!conf) {
    g_string_free(list, TRUE);
    return;
  }
  current_conf = conf;
  if (invited_conf == conf)
    invited_conf = NULL;
  for (l = members; l; l = l->next) {
    struct mwLoginInfo *li = l->data;
    if (!li)
      continue;
    if (list->len)
      g_string_append_c(list, ',');
    g_string_append(list, S(li->user_id));
  }
  event("CHAT_OPENED %s members=%s", S(mwConference_getName(conf)), list->str);
  g_string_free(list, TRUE);
}

static void conf_closed(struct mwConference *conf, guint32 reason) {
  event("CHAT_CLOSED 0x%08x %s", reason,
        conf ? S(mwConference_getName(conf)) : "");
  if (conf && conf == current_conf)
    current_conf = NULL;
  if (conf && conf == invited_conf)
    invited_conf = NULL;
}

static void conf_joined(struct mwConference *conf, struct mwLoginInfo *who) {
  (void)conf;
  event("CHAT_JOINED %s", who ? S(who->user_id) : "");
}

static void conf_parted(struct mwConference *conf, struct mwLoginInfo *who) {
  (void)conf;
  event("CHAT_LEFT %s", who ? S(who->user_id) : "");
}

static void conf_text(struct mwConference *conf, struct mwLoginInfo *who,
                      const char *what) {
  (void)conf;
  event("CHAT %s %s", who ? S(who->user_id) : "", S(what));
}

static void conf_typing(struct mwConference *conf, struct mwLoginInfo *who,
                        gboolean typing) {
  (void)conf;
  event("CHAT_TYPING %s %d", who ? S(who->user_id) : "", typing ? 1 : 0);
}

static void conf_clear(struct mwServiceConference *srvc) { (void)srvc; }

static struct mwConferenceHandler conf_handler = {
    .on_invited = conf_invited,
    .conf_opened = conf_opened,
    .conf_closed = conf_closed,
    .on_peer_joined = conf_joined,
    .on_peer_parted = conf_parted,
    .on_text = conf_text,
    .on_typing = conf_typing,
    .clear = conf_clear,
};

/* ---- file transfer -------------------------------------------------- */

/* What a transfer carries for us: the local file, and for a sender the
   byte count after which it cancels instead of sending more (0: never). */
struct xfer {
  FILE *fp;
  char *path;
  guint32 cancel_after;
};

static void xfer_free(gpointer data) {
  struct xfer *x = data;
  if (!x)
    return;
  if (x->fp)
    fclose(x->fp);
  g_free(x->path);
  g_free(x);
}

static const char *ft_user(struct mwFileTransfer *ft) {
  const struct mwIdBlock *who = ft ? mwFileTransfer_getUser(ft) : NULL;
  return who ? S(who->user) : "";
}

/* Cancels the file being sent from the main loop: libmeanwhile still reads
   the transfer after the ack handler returns, so it must not be freed
   from within it. */
static gboolean cancel_later(gpointer ft) {
  if (ft && ft == sending_ft)
    mwFileTransfer_cancel(sending_ft);
  return FALSE;
}

/* Sends the next chunk of at most 8192 bytes, as Pidgin does (ft_send), or
   cancels once cancel_after bytes went. */
static void ft_send_chunk(struct mwFileTransfer *ft) {
  struct xfer *x = mwFileTransfer_getClientData(ft);
  guchar buf[8192];
  struct mwOpaque o = {sizeof buf, buf};
  guint32 rem = mwFileTransfer_getRemaining(ft);
  if (!x || !x->fp)
    return;
  if (x->cancel_after && mwFileTransfer_getSent(ft) >= x->cancel_after) {
    g_idle_add(cancel_later, ft);
    return;
  }
  if (rem < o.len)
    o.len = rem;
  if (fread(buf, 1, o.len, x->fp) != o.len) {
    event("ERROR cannot read %s", S(x->path));
    g_idle_add(cancel_later, ft);
    return;
  }
  mwFileTransfer_send(ft, &o);
}

static void ft_offered(struct mwFileTransfer *ft) {
  if (!ft)
    return;
  offered_ft = ft;
  event("FILE_OFFERED %s name=%s size=%u", ft_user(ft),
        S(mwFileTransfer_getFileName(ft)),
        (unsigned)mwFileTransfer_getFileSize(ft));
}

static void ft_opened(struct mwFileTransfer *ft) {
  if (!ft)
    return;
  event("FILE_OPENED %s", ft_user(ft));
  if (ft == sending_ft)
    ft_send_chunk(ft);
}

static void ft_closed(struct mwFileTransfer *ft, guint32 code) {
  struct xfer *x;
  if (!ft)
    return;
  x = mwFileTransfer_getClientData(ft);
  if (!mwFileTransfer_getRemaining(ft)) {
    if (ft == sending_ft)
      event("FILE_SENT %s name=%s size=%u", ft_user(ft),
            S(mwFileTransfer_getFileName(ft)),
            (unsigned)mwFileTransfer_getFileSize(ft));
    else if (x && x->fp) {
      fclose(x->fp);
      x->fp = NULL;
      event("FILE_RECEIVED %s name=%s size=%u path=%s", ft_user(ft),
            S(mwFileTransfer_getFileName(ft)),
            (unsigned)mwFileTransfer_getFileSize(ft), S(x->path));
    }
  }
  event("FILE_CLOSED %s 0x%08x remaining=%u", ft_user(ft), code,
        (unsigned)mwFileTransfer_getRemaining(ft));
  if (ft == sending_ft)
    sending_ft = NULL;
  if (ft == offered_ft)
    offered_ft = NULL;
  mwFileTransfer_free(ft); /* as Pidgin's mw_ft_closed does */
}

static void ft_recv(struct mwFileTransfer *ft, struct mwOpaque *data) {
  struct xfer *x = ft ? mwFileTransfer_getClientData(ft) : NULL;
  if (!x || !x->fp || !data)
    return;
  if (fwrite(data->data, 1, data->len, x->fp) != data->len)
    event("ERROR cannot write %s", S(x->path));
  /* As Pidgin: acknowledge every chunk. */
  mwFileTransfer_ack(ft);
}

static void ft_ack(struct mwFileTransfer *ft) {
  if (ft && ft == sending_ft && mwFileTransfer_getRemaining(ft) &&
      mwFileTransfer_isOpen(ft))
    ft_send_chunk(ft);
}

static void ft_clear(struct mwServiceFileTransfer *srvc) { (void)srvc; }

static struct mwFileTransferHandler ft_handler = {
    .ft_offered = ft_offered,
    .ft_opened = ft_opened,
    .ft_closed = ft_closed,
    .ft_recv = ft_recv,
    .ft_ack = ft_ack,
    .clear = ft_clear,
};

/* ---- storage and resolve -------------------------------------------- */

static void stored(struct mwServiceStorage *srvc, guint32 result,
                   struct mwStorageUnit *item, gpointer data) {
  (void)srvc;
  (void)data;
  event("STORED key=0x%x result=0x%08x",
        item ? mwStorageUnit_getKey(item) : 0u, result);
}

static void loaded(struct mwServiceStorage *srvc, guint32 result,
                   struct mwStorageUnit *item, gpointer data) {
  char *value = item ? mwStorageUnit_asString(item) : NULL;
  (void)srvc;
  (void)data;
  event("LOADED key=0x%x result=0x%08x value=%s",
        item ? mwStorageUnit_getKey(item) : 0u, result, S(value));
  g_free(value);
}

static void resolved(struct mwServiceResolve *srvc, guint32 id, guint32 code,
                     GList *results, gpointer data) {
  const char *query = data;
  GList *r;
  gboolean any = FALSE;
  (void)srvc;
  (void)id;
  for (r = results; r; r = r->next) {
    struct mwResolveResult *res = r->data;
    GList *m;
    if (!res)
      continue;
    if (!res->matches) {
      event("UNRESOLVED %s code=0x%08x", res->name ? res->name : S(query),
            res->code);
      any = TRUE;
      continue;
    }
    for (m = res->matches; m; m = m->next) {
      struct mwResolveMatch *match = m->data;
      if (!match)
        continue;
      event("RESOLVED %s id=%s name=%s", res->name ? res->name : S(query),
            S(match->id), S(match->name));
      any = TRUE;
    }
  }
  if (!any)
    event("UNRESOLVED %s code=0x%08x", S(query), code);
}

/* ---- commands ------------------------------------------------------- */

/* Splits "word rest" in place: returns rest (possibly empty), never NULL. */
static char *split(char *s) {
  char *sp = strchr(s, ' ');
  if (!sp)
    return s + strlen(s);
  *sp = '\0';
  return sp + 1;
}

static gboolean parse_u32(const char *s, guint32 *out) {
  char *end;
  unsigned long v;
  if (!s || !*s)
    return FALSE;
  errno = 0;
  v = strtoul(s, &end, 0);
  if (errno || *end || v > G_MAXUINT32)
    return FALSE;
  *out = (guint32)v;
  return TRUE;
}

static void aware_change(const char *user, gboolean add) {
  struct mwAwareIdBlock idb = {mwAware_USER, (char *)user, NULL};
  GList *l = g_list_prepend(NULL, &idb);
  int rc = add ? mwAwareList_addAware(aware_list, l)
               : mwAwareList_removeAware(aware_list, l);
  g_list_free(l);
  if (rc)
    event("ERROR %s failed: %d", add ? "watch" : "unwatch", rc);
}

static void cmd_im(char *args) {
  char *text = split(args);
  struct mwIdBlock idb = {args, NULL};
  struct mwConversation *conv;
  GPtrArray *texts;
  if (!*args) {
    event("ERROR usage: im USER TEXT");
    return;
  }
  conv = mwServiceIm_getConversation(srvc_im, &idb);
  if (!conv) {
    event("ERROR no conversation with %s", args);
    return;
  }
  if (mwConversation_isOpen(conv)) {
    mwConversation_send(conv, mwImSend_PLAIN, text);
    return;
  }
  texts = g_hash_table_lookup(pending_ims, args);
  if (!texts) {
    texts = g_ptr_array_new_with_free_func(g_free);
    g_hash_table_insert(pending_ims, g_strdup(args), texts);
  }
  g_ptr_array_add(texts, g_strdup(text));
  if (mwConversation_isClosed(conv))
    mwConversation_open(conv);
}

static void cmd_save_blist(char *args) {
  struct mwSametimeList *list = mwSametimeList_new();
  struct mwSametimeGroup *group =
      mwSametimeGroup_new(list, mwSametimeGroup_NORMAL, "Buddies");
  char **users = g_strsplit(args, " ", -1);
  char **u;
  char *text;
  for (u = users; *u; u++) {
    struct mwIdBlock idb = {*u, NULL};
    if (**u)
      mwSametimeUser_new(group, mwSametimeUser_NORMAL, &idb);
  }
  g_strfreev(users);
  text = mwSametimeList_store(list);
  mwSametimeList_free(list);
  mwServiceStorage_save(srvc_store,
                        mwStorageUnit_newString(mwStore_AWARE_LIST, S(text)),
                        stored, NULL, NULL);
  g_free(text);
}

/* file_send USER PATH [CANCEL_AFTER]: offers the file under its base name
   and sends it once accepted; with CANCEL_AFTER, cancels after that many
   bytes went. */
static void cmd_file_send(char *args) {
  char *path = split(args);
  char *after = split(path);
  struct mwIdBlock idb = {args, NULL};
  struct xfer *x;
  char *name;
  long size;
  guint32 cancel_after = 0;
  if (!*args || !*path || (*after && !parse_u32(after, &cancel_after))) {
    event("ERROR usage: file_send USER PATH [CANCEL_AFTER]");
    return;
  }
  if (sending_ft) {
    event("ERROR a file is being sent");
    return;
  }
  x = g_new0(struct xfer, 1);
  x->path = g_strdup(path);
  x->cancel_after = cancel_after;
  x->fp = fopen(path, "rb");
  if (!x->fp || fseek(x->fp, 0, SEEK_END) || (size = ftell(x->fp)) < 0 ||
      fseek(x->fp, 0, SEEK_SET)) {
    event("ERROR cannot open %s", path);
    xfer_free(x);
    return;
  }
  name = g_path_get_basename(path);
  sending_ft = mwFileTransfer_new(srvc_ft, &idb, "", name, (guint32)size);
  g_free(name);
  mwFileTransfer_setClientData(sending_ft, x, xfer_free);
  mwFileTransfer_offer(sending_ft);
}

/* file_accept PATH: accepts the last offer, writing it to PATH. */
static void cmd_file_accept(char *args) {
  struct xfer *x;
  if (!offered_ft || !*args) {
    event("ERROR %s", offered_ft ? "usage: file_accept PATH" : "no file offered");
    return;
  }
  x = g_new0(struct xfer, 1);
  x->path = g_strdup(args);
  x->fp = fopen(args, "wb");
  if (!x->fp) {
    event("ERROR cannot create %s", args);
    xfer_free(x);
    return;
  }
  mwFileTransfer_setClientData(offered_ft, x, xfer_free);
  {
    struct mwFileTransfer *ft = offered_ft;
    offered_ft = NULL;
    mwFileTransfer_accept(ft);
  }
}

static void command(char *line) {
  char *args = split(line);
  guint32 num;

  if (!strcmp(line, "quit")) {
    if (session && !mwSession_isStopped(session) &&
        !mwSession_isStopping(session) && sock >= 0)
      mwSession_stop(session, ERR_SUCCESS); /* reports STOPPED */
    else
      g_main_loop_quit(loop);
  } else if (!*line) {
    /* empty line: nothing to do */
  } else if (!session || sock < 0) {
    event("ERROR not connected: %s", line);
  } else if (!strcmp(line, "watch") && *args) {
    aware_change(args, TRUE);
  } else if (!strcmp(line, "unwatch") && *args) {
    aware_change(args, FALSE);
  } else if (!strcmp(line, "status")) {
    char *text = split(args);
    struct mwUserStatus st;
    if (!parse_u32(args, &num) || num > 0xffff) {
      event("ERROR usage: status 0xSTATUS TEXT");
      return;
    }
    st.status = (guint16)num;
    st.time = 0;
    st.desc = text;
    mwSession_setUserStatus(session, &st);
  } else if (!strcmp(line, "im")) {
    cmd_im(args);
  } else if (!strcmp(line, "chat_create")) {
    struct mwConference *conf = mwConference_new(srvc_conf, args);
    if (!conf) {
      event("ERROR chat_create failed");
      return;
    }
    current_conf = conf;
    mwConference_open(conf);
  } else if (!strcmp(line, "chat_invite") && *args) {
    char *text = split(args);
    struct mwIdBlock idb = {args, NULL};
    if (!current_conf)
      event("ERROR no chat");
    else
      mwConference_invite(current_conf, &idb, text);
  } else if (!strcmp(line, "chat_say")) {
    if (!current_conf)
      event("ERROR no chat");
    else
      mwConference_sendText(current_conf, args);
  } else if (!strcmp(line, "chat_typing")) {
    if (!current_conf)
      event("ERROR no chat");
    else
      mwConference_sendTyping(current_conf, strcmp(args, "0") != 0);
  } else if (!strcmp(line, "chat_leave")) {
    if (!current_conf)
      event("ERROR no chat");
    else {
      struct mwConference *conf = current_conf;
      /* Forget it first: the conference is freed by destroy. */
      current_conf = NULL;
      if (invited_conf == conf)
        invited_conf = NULL;
      mwConference_destroy(conf, ERR_SUCCESS, "Leaving");
    }
  } else if (!strcmp(line, "chat_accept")) {
    if (!invited_conf)
      event("ERROR no invitation");
    else
      mwConference_accept(invited_conf);
  } else if (!strcmp(line, "save")) {
    char *text = split(args);
    if (!parse_u32(args, &num)) {
      event("ERROR usage: save KEY TEXT");
      return;
    }
    mwServiceStorage_save(srvc_store, mwStorageUnit_newString(num, text),
                          stored, NULL, NULL);
  } else if (!strcmp(line, "save_blist")) {
    cmd_save_blist(args);
  } else if (!strcmp(line, "load")) {
    if (!parse_u32(args, &num)) {
      event("ERROR usage: load KEY");
      return;
    }
    mwServiceStorage_load(srvc_store, mwStorageUnit_new(num), loaded, NULL,
                          NULL);
  } else if (!strcmp(line, "resolve") && *args) {
    GList *queries = g_list_prepend(NULL, args);
    guint32 id = mwServiceResolve_resolve(
        srvc_resolve, queries, mwResolveFlag_FIRST | mwResolveFlag_USERS,
        resolved, g_strdup(args), g_free);
    g_list_free(queries);
    if (id == SEARCH_ERROR)
      event("UNRESOLVED %s code=0x%08x", args, (unsigned)ERR_FAILURE);
  } else if (!strcmp(line, "file_send")) {
    cmd_file_send(args);
  } else if (!strcmp(line, "file_accept")) {
    cmd_file_accept(args);
  } else if (!strcmp(line, "file_decline")) {
    if (!offered_ft)
      event("ERROR no file offered");
    else
      mwFileTransfer_reject(offered_ft); /* 0x08000606, as Pidgin declines */
  } else if (!strcmp(line, "keepalive")) {
    if (mwSession_sendKeepalive(session))
      event("ERROR keepalive failed");
  } else {
    event("ERROR unknown command: %s", line);
  }
}

static gboolean on_stdin(GIOChannel *chan, GIOCondition cond, gpointer data) {
  gchar *line = NULL;
  gsize len = 0, term = 0;
  GIOStatus st;
  (void)cond;
  (void)data;
  st = g_io_channel_read_line(chan, &line, &len, &term, NULL);
  if (st == G_IO_STATUS_AGAIN)
    return TRUE;
  if (st != G_IO_STATUS_NORMAL || !line) {
    /* stdin closed: the test is gone, so leave as with quit. */
    g_free(line);
    stdin_watch = 0;
    {
      char quit[] = "quit";
      command(quit);
    }
    return FALSE;
  }
  line[term] = '\0';
  command(line);
  g_free(line);
  return TRUE;
}

/* ---- main ----------------------------------------------------------- */

static void usage(void) {
  fprintf(stderr,
          "usage: vp-mwclient HOST PORT USER PASSWORD [--token TOKEN] "
          "[--no-cipher] [--auto-accept]\n"
          "commands: watch USER | unwatch USER | status 0xSTATUS TEXT | "
          "im USER TEXT | chat_create TOPIC | chat_invite USER TEXT | "
          "chat_say TEXT | chat_typing 0|1 | chat_leave | chat_accept | "
          "save KEY TEXT | save_blist USER... | load KEY | resolve NAME | "
          "file_send USER PATH [CANCEL_AFTER] | file_accept PATH | "
          "file_decline | keepalive | quit\n"
          "MWCLIENT_DEBUG=1 logs libmeanwhile to stderr\n");
}

int main(int argc, char **argv) {
  gboolean ciphers = TRUE;
  GIOChannel *sock_chan, *stdin_chan;
  int i;

  if (argc < 5) {
    usage();
    return 2;
  }
  for (i = 5; i < argc; i++) {
    if (!strcmp(argv[i], "--token") && i + 1 < argc)
      token = argv[++i];
    else if (!strcmp(argv[i], "--no-cipher"))
      ciphers = FALSE;
    else if (!strcmp(argv[i], "--auto-accept"))
      auto_accept = TRUE;
    else {
      usage();
      return 2;
    }
  }
  debug = g_getenv("MWCLIENT_DEBUG") && *g_getenv("MWCLIENT_DEBUG");
  g_log_set_handler("meanwhile", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL |
                                     G_LOG_FLAG_RECURSION,
                    log_handler, NULL);
  g_log_set_default_handler(log_handler, NULL);

  loop = g_main_loop_new(NULL, FALSE);
  pending_ims = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify)g_ptr_array_unref);

  sock = connect_to(argv[1], argv[2]);
  if (sock < 0)
    return 1;

  session = mwSession_new(&session_handler);
  mwSession_setProperty(session, mwSession_AUTH_USER_ID, argv[3], NULL);
  mwSession_setProperty(session, mwSession_AUTH_PASSWORD, argv[4], NULL);

  srvc_aware = mwServiceAware_new(session, &aware_handler);
  aware_list = mwAwareList_new(srvc_aware, &aware_list_handler);
  /* Like Pidgin (list_ensure): the file transfer attribute is what makes
     it offer "Send File" to a buddy. */
  mwAwareList_watchAttributes(aware_list, mwAttribute_FILE_TRANSFER, NULL);
  srvc_im = mwServiceIm_new(session, &im_handler);
  srvc_conf = mwServiceConference_new(session, &conf_handler);
  srvc_store = mwServiceStorage_new(session);
  srvc_resolve = mwServiceResolve_new(session);
  srvc_ft = mwServiceFileTransfer_new(session, &ft_handler);
  mwSession_addService(session, MW_SERVICE(srvc_aware));
  mwSession_addService(session, MW_SERVICE(srvc_im));
  mwSession_addService(session, MW_SERVICE(srvc_conf));
  mwSession_addService(session, MW_SERVICE(srvc_store));
  mwSession_addService(session, MW_SERVICE(srvc_resolve));
  mwSession_addService(session, MW_SERVICE(srvc_ft));
  if (ciphers) {
    /* Like Pidgin: IM channels offer RC2/40 and RC2/128 and libmeanwhile
       picks what the peer accepts. Without them IM is plaintext. */
    mwSession_addCipher(session, mwCipher_new_RC2_40(session));
    mwSession_addCipher(session, mwCipher_new_RC2_128(session));
  }

  sock_chan = g_io_channel_unix_new(sock);
  sock_watch = g_io_add_watch(sock_chan, G_IO_IN | G_IO_HUP | G_IO_ERR,
                              on_socket, NULL);
  g_io_channel_unref(sock_chan);
  stdin_chan = g_io_channel_unix_new(0);
  stdin_watch = g_io_add_watch(stdin_chan, G_IO_IN | G_IO_HUP | G_IO_ERR,
                               on_stdin, NULL);
  g_io_channel_unref(stdin_chan);

  mwSession_start(session); /* sends HANDSHAKE */
  g_main_loop_run(loop);

  close_socket();
  /* No mwSession_free: the process ends here and libmeanwhile's teardown
     of half-started services is not worth the risk in a test harness. */
  return exit_code;
}
