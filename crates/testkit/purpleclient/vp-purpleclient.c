/*
 * vp-purpleclient: Pidgin's Sametime plugin (libpurple's prpl-meanwhile)
 * without a UI, the harness of docs spec vp-protocol.md section 12.4, in
 * the manner of libpurple's example nullclient.c. Simul's tests drive it
 * through simul_testkit::PurpleClient so that the VP door is tested against
 * what Pidgin users really run: the plugin on top of libmeanwhile, with its
 * NotesBuddy IM, buddy-list sync and status handling.
 *
 *   vp-purpleclient HOST PORT USER PASSWORD USER_DIR
 *
 * USER_DIR is libpurple's profile directory (accounts.xml, blist.xml,
 * prefs.xml); a test gives every instance a fresh one.
 *
 * Commands are read from stdin, one per line; events are written to stdout,
 * one per line, flushed at once, keyword first. Control characters in texts
 * are escaped (\n, \r, \t, \xNN) so that every event stays on one line; the
 * texts of displayed lines have their markup stripped (what a user reads).
 *
 * Commands:
 *   im USER TEXT      open (or reuse) an IM conversation and send TEXT
 *   add NAME          add a buddy to group "Buddies" (the plugin resolves
 *                     NAME and watches it; NAME may contain spaces)
 *   search_add N      press "Add" on row N (from 0) of the search results
 *                     last shown (the chooser the plugin shows when a name
 *                     resolves to someone else's id); the add-buddy dialog
 *                     this opens is confirmed at once
 *   send_file USER PATH
 *                     Pidgin's "Send File" to USER with PATH chosen
 *   accept_files DIR  save the files offered from now on in DIR (until
 *                     then, offers are declined)
 *   can_send_file USER
 *                     whether Pidgin would offer "Send File" for USER
 *                     (CAN_SEND_FILE USER 0|1)
 *   away TEXT | dnd TEXT | available
 *                     activate a saved status (with a message)
 *   chat TOPIC        create a conference (serv_join_chat, "chat.topic")
 *   invite USER [TEXT]
 *                     invite USER to the chat last joined
 *   say TEXT          say TEXT in the chat last joined
 *   quit              disconnect the account and exit
 *
 * Events:
 *   SIGNED_ON
 *   CONNECTION_ERROR <PurpleConnectionError number> <text>
 *     then, as Pidgin's UI (gtkconn.c) decides on purple_connection_error_is_fatal:
 *   RECONNECT_IN <seconds>             transient: reconnects after a delay
 *                                      (Pidgin: 8-60 s doubling up to 600 s;
 *                                      here 1 s doubling up to 8 s)
 *   RECONNECTING                       the delay is over: connecting again
 *   ACCOUNT_DISABLED                   fatal: the account is disabled, no
 *                                      reconnect
 *   SIGNED_OFF
 *   BUDDY_STATUS <name> <status id> <message>
 *   BUDDY_SIGNED_ON <name> <status id> <message>  came online (no
 *                                      BUDDY_STATUS for that change)
 *   BUDDY_SIGNED_OFF <name>
 *   IM <who> <text>                    a received IM as displayed
 *   IM_LINE <who> <flags> <text>       any other line of an IM conversation
 *                                      (the own sent lines, errors, system)
 *   CHAT_INVITED <inviter> <chat name> <text>  (then joined automatically)
 *   CHAT_JOINED <chat name> <title>
 *   CHAT_BUDDY_JOINED <name>, CHAT_BUDDY_LEFT <name>
 *   CHAT_LINE <who> <flags> <text>     a displayed chat line
 *   BUDDY_REMOVED <name>               a buddy left the buddy list
 *   ADD_BUDDY_REQUEST <name> <alias>   the plugin asks to add a buddy (Pidgin's
 *                                      add-buddy dialog); confirmed at once
 *   SEARCH_RESULTS <primary text>      search results shown, then one
 *   SEARCH_ROW <n> <column 0> | <column 1> ...  per row
 *   NOTIFY <ERROR|WARNING|INFO> <title> | <primary> | <secondary>
 *                                      a message box Pidgin would pop up
 *   FILE_OFFERED <who> <name> <size>   a file offered (saved or declined)
 *   FILE_SENT <who> <name>, FILE_RECEIVED <who> <local path>
 *                                      a transfer completed
 *   FILE_CANCELLED <who> <name>        a transfer ended before it completed
 *   CAN_SEND_FILE <name> <0|1>         the answer to can_send_file
 *   ERROR <text>                       a command that could not be done
 * Flags are PurpleMessageFlags names joined by '|' (SEND, RECV, SYSTEM,
 * ERROR, ...), or 0.
 *
 * PURPLECLIENT_DEBUG=1 in the environment sends libpurple's debug log to
 * stderr (never stdout, which is for events only).
 *
 * Build: gcc -o vp-purpleclient vp-purpleclient.c \
 *          $(pkg-config --cflags --libs purple glib-2.0)
 */

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include <purple.h>

#define UI_ID "simul-vp-purpleclient"

static GMainLoop *loop;
static PurpleAccount *account;
static PurpleConversation *current_chat;
/* Pidgin's auto-reconnect (gtkconn.c): the next delay, the pending timer. */
static guint reconnect_delay;
static guint reconnect_timer;
static gboolean quitting;
/* The search results last shown, for search_add. */
static PurpleNotifySearchResults *last_results;
static gpointer last_results_data;

/* ---- output --------------------------------------------------------- */

static const char *S(const char *s) { return s ? s : ""; }

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

/* Prints one event: the format's %s arguments are escaped, %d is an int.
   No text from the server can break the line structure. */
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
    if (*f == 's')
      append_escaped(out, va_arg(ap, const char *));
    else if (*f == 'd')
      g_string_append_printf(out, "%d", va_arg(ap, int));
    else if (*f == '%')
      g_string_append_c(out, '%');
    else
      break;
  }
  va_end(ap);
  fputs(out->str, stdout);
  fputc('\n', stdout);
  fflush(stdout);
  g_string_free(out, TRUE);
}

/* Displayed text as a user reads it: markup stripped, entities decoded. */
static char *plain(const char *markup) {
  return purple_markup_strip_html(S(markup));
}

static char *flag_names(PurpleMessageFlags flags) {
  static const struct {
    PurpleMessageFlags flag;
    const char *name;
  } names[] = {
      {PURPLE_MESSAGE_SEND, "SEND"},
      {PURPLE_MESSAGE_RECV, "RECV"},
      {PURPLE_MESSAGE_SYSTEM, "SYSTEM"},
      {PURPLE_MESSAGE_AUTO_RESP, "AUTO_RESP"},
      {PURPLE_MESSAGE_ACTIVE_ONLY, "ACTIVE_ONLY"},
      {PURPLE_MESSAGE_NICK, "NICK"},
      {PURPLE_MESSAGE_NO_LOG, "NO_LOG"},
      {PURPLE_MESSAGE_WHISPER, "WHISPER"},
      {PURPLE_MESSAGE_ERROR, "ERROR"},
      {PURPLE_MESSAGE_DELAYED, "DELAYED"},
      {PURPLE_MESSAGE_RAW, "RAW"},
      {PURPLE_MESSAGE_IMAGES, "IMAGES"},
      {PURPLE_MESSAGE_NOTIFY, "NOTIFY"},
      {PURPLE_MESSAGE_NO_LINKIFY, "NO_LINKIFY"},
      {PURPLE_MESSAGE_INVISIBLE, "INVISIBLE"},
  };
  GString *out = g_string_new(NULL);
  size_t i;
  for (i = 0; i < G_N_ELEMENTS(names); i++) {
    if (flags & names[i].flag) {
      if (out->len)
        g_string_append_c(out, '|');
      g_string_append(out, names[i].name);
    }
  }
  if (!out->len)
    g_string_append_c(out, '0');
  return g_string_free(out, FALSE);
}

/* ---- the event loop on glib (as nullclient.c) ------------------------ */

#define PURPLE_GLIB_READ_COND (G_IO_IN | G_IO_HUP | G_IO_ERR)
#define PURPLE_GLIB_WRITE_COND (G_IO_OUT | G_IO_HUP | G_IO_ERR | G_IO_NVAL)

typedef struct {
  PurpleInputFunction function;
  guint result;
  gpointer data;
} IoClosure;

static gboolean io_invoke(GIOChannel *source, GIOCondition condition,
                          gpointer data) {
  IoClosure *closure = data;
  PurpleInputCondition cond = 0;
  if (condition & PURPLE_GLIB_READ_COND)
    cond |= PURPLE_INPUT_READ;
  if (condition & PURPLE_GLIB_WRITE_COND)
    cond |= PURPLE_INPUT_WRITE;
  closure->function(closure->data, g_io_channel_unix_get_fd(source), cond);
  return TRUE;
}

static guint glib_input_add(gint fd, PurpleInputCondition condition,
                            PurpleInputFunction function, gpointer data) {
  IoClosure *closure = g_new0(IoClosure, 1);
  GIOChannel *channel;
  GIOCondition cond = 0;
  closure->function = function;
  closure->data = data;
  if (condition & PURPLE_INPUT_READ)
    cond |= PURPLE_GLIB_READ_COND;
  if (condition & PURPLE_INPUT_WRITE)
    cond |= PURPLE_GLIB_WRITE_COND;
  channel = g_io_channel_unix_new(fd);
  closure->result = g_io_add_watch_full(channel, G_PRIORITY_DEFAULT, cond,
                                        io_invoke, closure, g_free);
  g_io_channel_unref(channel);
  return closure->result;
}

static PurpleEventLoopUiOps eventloop_ops = {
    .timeout_add = g_timeout_add,
    .timeout_remove = g_source_remove,
    .input_add = glib_input_add,
    .input_remove = g_source_remove,
    .input_get_error = NULL,
    .timeout_add_seconds = g_timeout_add_seconds,
};

/* ---- conversations --------------------------------------------------- */

static void write_conv(PurpleConversation *conv, const char *name,
                       const char *alias, const char *message,
                       PurpleMessageFlags flags, time_t mtime) {
  char *text = plain(message);
  char *names = flag_names(flags);
  (void)alias;
  (void)mtime;
  if (purple_conversation_get_type(conv) == PURPLE_CONV_TYPE_CHAT)
    event("CHAT_LINE %s %s %s", S(name), names, text);
  else if ((flags & PURPLE_MESSAGE_RECV) && !(flags & PURPLE_MESSAGE_SYSTEM))
    event("IM %s %s", S(name), text);
  else
    event("IM_LINE %s %s %s",
          S(name ? name : purple_conversation_get_name(conv)), names, text);
  g_free(names);
  g_free(text);
}

static PurpleConversationUiOps conversation_ops = {
    .write_conv = write_conv,
};

/* ---- signals --------------------------------------------------------- */

static int handle;

static void signed_on(PurpleConnection *gc) {
  (void)gc;
  reconnect_delay = 0;
  event("SIGNED_ON");
}

static void signed_off(PurpleConnection *gc) {
  (void)gc;
  event("SIGNED_OFF");
}

/* Pidgin's do_signon: connect again if the status is an online one. */
static gboolean reconnect(gpointer data) {
  (void)data;
  reconnect_timer = 0;
  if (quitting)
    return FALSE;
  event("RECONNECTING");
  if (purple_status_is_online(purple_account_get_active_status(account)))
    purple_account_connect(account);
  return FALSE;
}

static gboolean disable_account(gpointer data) {
  (void)data;
  purple_account_set_enabled(account, UI_ID, FALSE);
  return FALSE;
}

/* What Pidgin's UI does after a connection error (gtkconn.c
   pidgin_connection_report_disconnect_reason): a transient error
   reconnects after a growing delay, a fatal one disables the account. The
   account is disabled once libpurple is done with the connection. */
static void connection_error(PurpleConnection *gc, PurpleConnectionError err,
                             const gchar *desc) {
  (void)gc;
  event("CONNECTION_ERROR %d %s", (int)err, S(desc));
  if (quitting)
    return;
  if (purple_connection_error_is_fatal(err)) {
    event("ACCOUNT_DISABLED");
    g_idle_add(disable_account, NULL);
    return;
  }
  reconnect_delay = reconnect_delay ? MIN(2 * reconnect_delay, 8) : 1;
  if (reconnect_timer)
    g_source_remove(reconnect_timer);
  event("RECONNECT_IN %d", (int)reconnect_delay);
  reconnect_timer = g_timeout_add_seconds(reconnect_delay, reconnect, NULL);
}

/* The status message of a buddy: the status's "message" attribute, else
   the plugin's status text (the Sametime aware text). */
static char *buddy_message(PurpleBuddy *buddy, PurpleStatus *status) {
  const char *message = purple_status_get_attr_string(status, "message");
  PurplePlugin *prpl;
  PurplePluginProtocolInfo *info;
  if (message && *message)
    return plain(message);
  prpl = purple_find_prpl(purple_account_get_protocol_id(account));
  info = prpl ? PURPLE_PLUGIN_PROTOCOL_INFO(prpl) : NULL;
  if (info && info->status_text) {
    char *text = info->status_text(buddy);
    char *result = plain(text);
    g_free(text);
    return result;
  }
  return g_strdup("");
}

static void buddy_status_changed(PurpleBuddy *buddy, PurpleStatus *old,
                                 PurpleStatus *now) {
  char *message = buddy_message(buddy, now);
  (void)old;
  event("BUDDY_STATUS %s %s %s", purple_buddy_get_name(buddy),
        purple_status_get_id(now), message);
  g_free(message);
}

/* libpurple reports offline to online as a sign-on only (no status
   change): with the status the buddy came online with. */
static void buddy_signed_on(PurpleBuddy *buddy) {
  PurpleStatus *status =
      purple_presence_get_active_status(purple_buddy_get_presence(buddy));
  char *message = buddy_message(buddy, status);
  event("BUDDY_SIGNED_ON %s %s %s", purple_buddy_get_name(buddy),
        purple_status_get_id(status), message);
  g_free(message);
}

static void buddy_signed_off(PurpleBuddy *buddy) {
  event("BUDDY_SIGNED_OFF %s", purple_buddy_get_name(buddy));
}

static void buddy_removed(PurpleBuddy *buddy) {
  event("BUDDY_REMOVED %s", purple_buddy_get_name(buddy));
}

/* Accepts every invitation: 1 makes libpurple join (serv_join_chat). */
static gint chat_invited(PurpleAccount *acct, const char *inviter,
                         const char *chat, const char *text,
                         GHashTable *components) {
  (void)acct;
  (void)components;
  event("CHAT_INVITED %s %s %s", S(inviter), S(chat), S(text));
  return 1;
}

static void chat_joined(PurpleConversation *conv) {
  current_chat = conv;
  event("CHAT_JOINED %s %s", purple_conversation_get_name(conv),
        S(purple_conversation_get_title(conv)));
}

static void chat_buddy_joined(PurpleConversation *conv, const char *name,
                              PurpleConvChatBuddyFlags flags,
                              gboolean new_arrival) {
  (void)conv;
  (void)flags;
  (void)new_arrival;
  event("CHAT_BUDDY_JOINED %s", S(name));
}

static void chat_buddy_left(PurpleConversation *conv, const char *name,
                            const char *reason) {
  (void)conv;
  (void)reason;
  event("CHAT_BUDDY_LEFT %s", S(name));
}

static void deleting_conversation(PurpleConversation *conv) {
  if (conv == current_chat)
    current_chat = NULL;
}

/* ---- file transfer ---------------------------------------------------- */

/* Where offered files are saved (accept_files DIR); NULL declines them. */
static char *accept_dir;

/* An offer, as a user of Pidgin answers it: saved under its name in
   accept_dir (what the autoaccept plugin does), or declined. */
static void file_recv_request(PurpleXfer *xfer) {
  const char *name = purple_xfer_get_filename(xfer);
  event("FILE_OFFERED %s %s %d", S(purple_xfer_get_remote_user(xfer)), S(name),
        (int)purple_xfer_get_size(xfer));
  if (accept_dir) {
    char *base = g_path_get_basename(S(name));
    char *path = g_build_filename(accept_dir, base, NULL);
    purple_xfer_request_accepted(xfer, path);
    g_free(path);
    g_free(base);
  } else {
    xfer->status = PURPLE_XFER_STATUS_CANCEL_LOCAL;
  }
}

static void file_recv_complete(PurpleXfer *xfer) {
  /* libpurple tells this before it closes the file: what it wrote is on
     disk once the event is out. */
  if (xfer->dest_fp)
    fflush(xfer->dest_fp);
  event("FILE_RECEIVED %s %s", S(purple_xfer_get_remote_user(xfer)),
        S(purple_xfer_get_local_filename(xfer)));
}

static void file_send_complete(PurpleXfer *xfer) {
  event("FILE_SENT %s %s", S(purple_xfer_get_remote_user(xfer)),
        S(purple_xfer_get_filename(xfer)));
}

static void file_cancelled(PurpleXfer *xfer) {
  event("FILE_CANCELLED %s %s", S(purple_xfer_get_remote_user(xfer)),
        S(purple_xfer_get_filename(xfer)));
}

static void connect_signals(void) {
  void *conns = purple_connections_get_handle();
  void *blist = purple_blist_get_handle();
  void *convs = purple_conversations_get_handle();
  void *xfers = purple_xfers_get_handle();
  purple_signal_connect(conns, "signed-on", &handle, PURPLE_CALLBACK(signed_on),
                        NULL);
  purple_signal_connect(conns, "signed-off", &handle,
                        PURPLE_CALLBACK(signed_off), NULL);
  purple_signal_connect(conns, "connection-error", &handle,
                        PURPLE_CALLBACK(connection_error), NULL);
  purple_signal_connect(blist, "buddy-status-changed", &handle,
                        PURPLE_CALLBACK(buddy_status_changed), NULL);
  purple_signal_connect(blist, "buddy-signed-on", &handle,
                        PURPLE_CALLBACK(buddy_signed_on), NULL);
  purple_signal_connect(blist, "buddy-signed-off", &handle,
                        PURPLE_CALLBACK(buddy_signed_off), NULL);
  purple_signal_connect(blist, "buddy-removed", &handle,
                        PURPLE_CALLBACK(buddy_removed), NULL);
  purple_signal_connect(convs, "chat-invited", &handle,
                        PURPLE_CALLBACK(chat_invited), NULL);
  purple_signal_connect(convs, "chat-joined", &handle,
                        PURPLE_CALLBACK(chat_joined), NULL);
  purple_signal_connect(convs, "chat-buddy-joined", &handle,
                        PURPLE_CALLBACK(chat_buddy_joined), NULL);
  purple_signal_connect(convs, "chat-buddy-left", &handle,
                        PURPLE_CALLBACK(chat_buddy_left), NULL);
  purple_signal_connect(convs, "deleting-conversation", &handle,
                        PURPLE_CALLBACK(deleting_conversation), NULL);
  purple_signal_connect(xfers, "file-recv-request", &handle,
                        PURPLE_CALLBACK(file_recv_request), NULL);
  purple_signal_connect(xfers, "file-recv-complete", &handle,
                        PURPLE_CALLBACK(file_recv_complete), NULL);
  purple_signal_connect(xfers, "file-send-complete", &handle,
                        PURPLE_CALLBACK(file_send_complete), NULL);
  purple_signal_connect(xfers, "file-recv-cancel", &handle,
                        PURPLE_CALLBACK(file_cancelled), NULL);
  purple_signal_connect(xfers, "file-send-cancel", &handle,
                        PURPLE_CALLBACK(file_cancelled), NULL);
}

/* ---- message boxes, search results, the add-buddy dialog ------------- */

static void *notify_message(PurpleNotifyMsgType type, const char *title,
                            const char *primary, const char *secondary) {
  const char *kind = type == PURPLE_NOTIFY_MSG_ERROR     ? "ERROR"
                     : type == PURPLE_NOTIFY_MSG_WARNING ? "WARNING"
                                                         : "INFO";
  char *a = plain(title), *b = plain(primary), *c = plain(secondary);
  event("NOTIFY %s %s | %s | %s", kind, a, b, c);
  g_free(a);
  g_free(b);
  g_free(c);
  return NULL;
}

/* A non-NULL handle keeps the results (and the plugin's data for its
   buttons) alive: with NULL, libpurple would close them at once. */
static void *notify_searchresults(PurpleConnection *gc, const char *title,
                                  const char *primary, const char *secondary,
                                  PurpleNotifySearchResults *results,
                                  gpointer user_data) {
  guint i, rows = purple_notify_searchresults_get_rows_count(results);
  (void)gc;
  (void)title;
  (void)secondary;
  last_results = results;
  last_results_data = user_data;
  event("SEARCH_RESULTS %s", S(primary));
  for (i = 0; i < rows; i++) {
    GList *cell = purple_notify_searchresults_row_get(results, i);
    GString *line = g_string_new(NULL);
    for (; cell; cell = cell->next) {
      if (line->len)
        g_string_append(line, " | ");
      g_string_append(line, S(cell->data));
    }
    event("SEARCH_ROW %d %s", (int)i, line->str);
    g_string_free(line, TRUE);
  }
  return results;
}

static PurpleNotifyUiOps notify_ops = {
    .notify_message = notify_message,
    .notify_searchresults = notify_searchresults,
};

/* Pidgin's add-buddy dialog, confirmed as it opens: what the dialog's OK
   does (gtkblist.c add_buddy_cb). */
static void request_add_buddy(PurpleAccount *acct, const char *name,
                              const char *group_name, const char *alias) {
  PurpleGroup *group;
  PurpleBuddy *buddy;
  event("ADD_BUDDY_REQUEST %s %s", S(name), S(alias));
  group = purple_find_group(group_name ? group_name : "Buddies");
  if (!group) {
    group = purple_group_new(group_name ? group_name : "Buddies");
    purple_blist_add_group(group, NULL);
  }
  buddy = purple_buddy_new(acct, name, alias);
  purple_blist_add_buddy(buddy, NULL, group, NULL);
  purple_account_add_buddy(acct, buddy);
}

static PurpleBlistUiOps blist_ops = {
    .request_add_buddy = request_add_buddy,
};

/* ---- core ------------------------------------------------------------ */

static void ui_init(void) {
  purple_conversations_set_ui_ops(&conversation_ops);
  purple_notify_set_ui_ops(&notify_ops);
  purple_blist_set_ui_ops(&blist_ops);
}

static PurpleCoreUiOps core_ops = {
    .ui_init = ui_init,
};

/* libpurple's debug log goes through g_print: keep it off stdout. */
static void print_to_stderr(const gchar *text) {
  fputs(text, stderr);
  fflush(stderr);
}

static void quiet_log(const gchar *domain, GLogLevelFlags level,
                      const gchar *message, gpointer data) {
  (void)domain;
  (void)level;
  (void)message;
  (void)data;
}

/* ---- commands -------------------------------------------------------- */

static PurpleConnection *connection(void) {
  PurpleConnection *gc = purple_account_get_connection(account);
  if (!gc || !purple_account_is_connected(account)) {
    event("ERROR not connected");
    return NULL;
  }
  return gc;
}

/* Typed text as the markup a conversation window would send. */
static char *markup(const char *text) { return g_markup_escape_text(text, -1); }

static void set_status(PurpleStatusPrimitive primitive, const char *message) {
  PurpleSavedStatus *status = purple_savedstatus_new(NULL, primitive);
  if (message && *message)
    purple_savedstatus_set_message(status, message);
  purple_savedstatus_activate(status);
}

static void quit(void) {
  quitting = TRUE;
  if (reconnect_timer)
    g_source_remove(reconnect_timer);
  reconnect_timer = 0;
  purple_account_set_enabled(account, UI_ID, FALSE);
  purple_account_disconnect(account);
  g_main_loop_quit(loop);
}

static void command(char *line) {
  char *arg = strchr(line, ' ');
  char *rest = NULL;
  if (arg) {
    *arg++ = '\0';
    rest = strchr(arg, ' ');
    if (rest)
      *rest++ = '\0';
  }

  if (!strcmp(line, "im") && arg && rest) {
    PurpleConversation *conv = purple_find_conversation_with_account(
        PURPLE_CONV_TYPE_IM, arg, account);
    char *text = markup(rest);
    if (!connection())
      return;
    if (!conv)
      conv = purple_conversation_new(PURPLE_CONV_TYPE_IM, account, arg);
    purple_conv_im_send(PURPLE_CONV_IM(conv), text);
    g_free(text);
  } else if (!strcmp(line, "add") && arg) {
    PurpleGroup *group = purple_find_group("Buddies");
    PurpleBuddy *buddy;
    if (rest)
      rest[-1] = ' ';
    if (!group) {
      group = purple_group_new("Buddies");
      purple_blist_add_group(group, NULL);
    }
    buddy = purple_buddy_new(account, arg, NULL);
    purple_blist_add_buddy(buddy, NULL, group, NULL);
    purple_account_add_buddy(account, buddy);
  } else if (!strcmp(line, "send_file") && arg && rest) {
    /* Pidgin's "Send File" with the file already chosen. */
    PurpleConnection *gc = connection();
    if (gc)
      serv_send_file(gc, arg, rest);
  } else if (!strcmp(line, "accept_files") && arg && !rest) {
    g_free(accept_dir);
    accept_dir = g_strdup(arg);
  } else if (!strcmp(line, "can_send_file") && arg && !rest) {
    /* What decides whether Pidgin offers "Send File" for a buddy (the
       prpl's can_receive_file: the buddy's file transfer attribute). */
    PurpleConnection *gc = connection();
    PurplePluginProtocolInfo *prpl;
    if (!gc)
      return;
    prpl = PURPLE_PLUGIN_PROTOCOL_INFO(purple_connection_get_prpl(gc));
    event("CAN_SEND_FILE %s %d", arg,
          prpl && prpl->can_receive_file && prpl->can_receive_file(gc, arg) ? 1
                                                                           : 0);
  } else if (!strcmp(line, "search_add") && arg && !rest) {
    guint row = (guint)atoi(arg);
    PurpleConnection *gc = connection();
    GList *l;
    if (!gc)
      return;
    if (!last_results ||
        row >= purple_notify_searchresults_get_rows_count(last_results)) {
      event("ERROR no such search result");
      return;
    }
    for (l = last_results->buttons; l; l = l->next) {
      PurpleNotifySearchButton *button = l->data;
      if (button->type == PURPLE_NOTIFY_BUTTON_ADD) {
        button->callback(gc, purple_notify_searchresults_row_get(last_results, row),
                         last_results_data);
        return;
      }
    }
    event("ERROR no Add button");
  } else if (!strcmp(line, "away") && arg) {
    if (rest)
      rest[-1] = ' ';
    set_status(PURPLE_STATUS_AWAY, arg);
  } else if (!strcmp(line, "dnd") && arg) {
    if (rest)
      rest[-1] = ' ';
    set_status(PURPLE_STATUS_UNAVAILABLE, arg);
  } else if (!strcmp(line, "available")) {
    set_status(PURPLE_STATUS_AVAILABLE, NULL);
  } else if (!strcmp(line, "chat") && arg) {
    PurpleConnection *gc = connection();
    GHashTable *components;
    if (!gc)
      return;
    if (rest)
      rest[-1] = ' ';
    components = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_insert(components, g_strdup("chat.topic"), g_strdup(arg));
    serv_join_chat(gc, components);
    g_hash_table_destroy(components);
  } else if (!strcmp(line, "invite") && arg) {
    PurpleConnection *gc = connection();
    if (!gc)
      return;
    if (!current_chat) {
      event("ERROR no chat");
      return;
    }
    serv_chat_invite(gc, purple_conv_chat_get_id(PURPLE_CONV_CHAT(current_chat)),
                     rest ? rest : "", arg);
  } else if (!strcmp(line, "say") && arg) {
    char *text;
    if (!current_chat) {
      event("ERROR no chat");
      return;
    }
    if (rest)
      rest[-1] = ' ';
    text = markup(arg);
    purple_conv_chat_send(PURPLE_CONV_CHAT(current_chat), text);
    g_free(text);
  } else if (!strcmp(line, "quit")) {
    quit();
  } else {
    event("ERROR usage: %s", line);
  }
}

static gboolean stdin_ready(GIOChannel *channel, GIOCondition condition,
                            gpointer data) {
  gchar *line = NULL;
  gsize terminator = 0;
  GIOStatus status;
  (void)condition;
  (void)data;
  status = g_io_channel_read_line(channel, &line, NULL, &terminator, NULL);
  if (status == G_IO_STATUS_NORMAL && line) {
    line[terminator] = '\0';
    command(line);
    g_free(line);
    return TRUE;
  }
  g_free(line);
  if (status == G_IO_STATUS_AGAIN)
    return TRUE;
  /* End of input: leave as with quit. */
  quit();
  return FALSE;
}

int main(int argc, char **argv) {
  GIOChannel *input;
  PurpleSavedStatus *status;

  if (argc != 6) {
    fprintf(stderr, "usage: %s HOST PORT USER PASSWORD USER_DIR\n", argv[0]);
    return 2;
  }
  /* As nullclient.c: libpurple's child processes (DNS) are not waited for. */
  signal(SIGCHLD, SIG_IGN);

  loop = g_main_loop_new(NULL, FALSE);
  g_set_print_handler(print_to_stderr);
  if (!getenv("PURPLECLIENT_DEBUG")) {
    g_log_set_handler(NULL, G_LOG_LEVEL_MASK, quiet_log, NULL);
    g_log_set_handler("GLib", G_LOG_LEVEL_MASK, quiet_log, NULL);
  }
  purple_debug_set_enabled(getenv("PURPLECLIENT_DEBUG") != NULL);

  purple_util_set_user_dir(argv[5]);
  purple_core_set_ui_ops(&core_ops);
  purple_eventloop_set_ui_ops(&eventloop_ops);
  if (!purple_core_init(UI_ID)) {
    fprintf(stderr, "libpurple initialisation failed\n");
    return 1;
  }
  purple_set_blist(purple_blist_new());
  purple_blist_load();
  purple_prefs_load();
  if (!purple_find_prpl("prpl-meanwhile")) {
    fprintf(stderr, "no prpl-meanwhile plugin (Debian's libpurple0 ships it)\n");
    return 1;
  }
  connect_signals();

  input = g_io_channel_unix_new(0);
  g_io_add_watch(input, G_IO_IN | G_IO_HUP | G_IO_ERR, stdin_ready, NULL);

  account = purple_account_new(argv[3], "prpl-meanwhile");
  purple_account_set_password(account, argv[4]);
  purple_account_set_string(account, "server", argv[1]);
  purple_account_set_int(account, "port", atoi(argv[2]));
  purple_accounts_add(account);
  purple_account_set_enabled(account, UI_ID, TRUE);

  status = purple_savedstatus_new(NULL, PURPLE_STATUS_AVAILABLE);
  purple_savedstatus_activate(status);

  g_main_loop_run(loop);
  return 0;
}
