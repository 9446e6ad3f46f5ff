"""A scripted XMPP client on slixmpp, for Simul's tests: commands on stdin,
one event a line on stdout (see crates/testkit/src/xmppclient.rs).

Usage: xmpp-client.py [--sm] JID PASSWORD HOST PORT starttls|direct [RESOURCE]

--sm: stream management with resumption (XEP-0198, slixmpp's xep_0198).
"""

import asyncio
import logging
import ssl
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.plugins.xep_0363.http_upload import FileTooBig, HTTPError, UploadServiceNotFound
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath, StanzaPath


def oob_url(message):
    """The out-of-band URL (XEP-0066) a message carries, if any."""
    url = message.xml.find("{jabber:x:oob}x/{jabber:x:oob}url")
    return url.text if url is not None else None


def say(*parts):
    text = " ".join(str(p) for p in parts)
    print(text.replace("\n", "\\n").replace("\r", "\\r"), flush=True)


def change_of(message):
    """What a message changes of an earlier one: (event, id, details...)."""
    replace = message.xml.find("{urn:xmpp:message-correct:0}replace")
    if replace is not None:
        return ("CORRECTED", replace.get("id"), message["body"])
    retract = message.xml.find("{urn:xmpp:message-retract:1}retract")
    if retract is not None:
        return ("RETRACTED", retract.get("id"))
    reactions = message.xml.find("{urn:xmpp:reactions:0}reactions")
    if reactions is not None:
        return ("REACTIONS", reactions.get("id"), *(r.text for r in reactions))
    return None


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password, direct, sm, address):
        super().__init__(jid, password)
        self.direct = direct
        self.address = address
        # Set when the client is done: disconnected, other than by `drop`
        # (after which `reconnect` connects again).
        self.done = self.loop.create_future()
        self.dropped = False
        # The server's certificate is the test deployment's self-signed one.
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0085")
        self.register_plugin("xep_0199")
        self.register_plugin("xep_0054")
        self.register_plugin("xep_0280")
        self.register_plugin("xep_0045")
        self.register_plugin("xep_0313")
        self.register_plugin("xep_0333")
        self.register_plugin("xep_0424")
        self.register_plugin("xep_0444")
        self.register_plugin("xep_0066")
        self.register_plugin("xep_0363")
        if sm:
            self.register_plugin("xep_0198")
            self.add_event_handler("sm_enabled", self.sm_enabled)
            self.add_event_handler("session_resumed", lambda _: say("RESUMED"))
            self.add_event_handler(
                "sm_failed", lambda failed: say("SM_FAILED", *(c.tag.split("}")[-1] for c in failed.xml)))
        self.add_event_handler("groupchat_message", self.groupchat_message)
        self.add_event_handler("groupchat_subject", self.groupchat_subject)
        self.add_event_handler("groupchat_presence", self.groupchat_presence)
        self.add_event_handler("groupchat_invite", self.groupchat_invite)
        # slixmpp forgets a room before the server confirms the leave:
        # catch that presence here.
        self.register_handler(Callback("left room", StanzaPath("presence@type=unavailable/muc"),
                                       self.left_room))
        # A deleted room line in the history: a tombstone (XEP-0424), no body.
        self.register_handler(Callback(
            "tombstone", MatchXPath("{jabber:client}message/{urn:xmpp:message-retract:1}retracted"),
            self.tombstone))
        self.add_event_handler("carbon_sent", self.carbon_sent)
        self.add_event_handler("session_start", self.started)
        self.add_event_handler("failed_auth", lambda _: say("FAILED_AUTH"))
        self.add_event_handler(
            "auth_success", lambda _: say("AUTH", self["feature_mechanisms"].mech.name))
        self.add_event_handler("disconnected", self.disconnected_from)
        self.add_event_handler("stream_error", self.stream_error)
        self.add_event_handler("presence", self.presence)
        self.add_event_handler("message", self.message)
        self.add_event_handler("message_error", self.message)
        # Messages without a body come as events of their own.
        self.add_event_handler("reactions", self.message)
        self.add_event_handler("marker_displayed", self.message)
        self.add_event_handler("roster_update", self.roster_update)

    async def started(self, _):
        say("SESSION_START", self.boundjid.full)

    def sm_enabled(self, enabled):
        say("SM_ENABLED", enabled["id"], "resume=" + str(enabled["resume"]).lower(),
            "max=" + str(enabled["max"]))

    def disconnected_from(self, reason):
        say("DISCONNECTED", reason)
        if not self.dropped and not self.done.done():
            self.done.set_result(True)

    def quit(self):
        self.dropped = False
        self.disconnect()

    def start_connecting(self):
        self.connect(address=self.address, use_ssl=self.direct,
                     force_starttls=not self.direct, disable_starttls=self.direct)

    def stream_error(self, error):
        say("STREAM_ERROR", error["condition"], error["text"])

    def presence(self, presence):
        kind = presence["type"]
        if kind == "error":
            # A room that would not let us in says why. The condition is read
            # from the XML: slixmpp knows only RFC 3920's, not
            # policy-violation (RFC 6120).
            stanzas = "{urn:ietf:params:xml:ns:xmpp-stanzas}"
            error = presence.xml.find("{jabber:client}error")
            conditions = [] if error is None else [
                child.tag[len(stanzas):] for child in error
                if child.tag.startswith(stanzas) and child.tag != stanzas + "text"]
            say("PRESENCE", presence["from"].bare, "type=error",
                "condition=" + ",".join(conditions),
                "text=" + (presence["error"]["text"] or ""))
            return
        if kind in ("available", "away", "dnd", "xa", "chat"):
            kind = "available"
        say("PRESENCE", presence["from"].bare, "type=" + kind,
            "show=" + (presence["show"] or ""), "status=" + (presence["status"] or ""))

    def groupchat_message(self, message):
        if not message["body"] or change_of(message):
            return
        url = oob_url(message)
        if url:
            say("GROUPCHAT_FILE", message["from"].bare, message["from"].resource, url)
        delayed = " (delayed)" if message["delay"]["stamp"] else ""
        say("GROUPCHAT", message["from"].bare, message["from"].resource, message["body"] + delayed)
        # The ids it is named by: its own, and the room's (XEP-0359).
        stanza_id = message.xml.find("{urn:xmpp:sid:0}stanza-id")
        sid, by = ("", "") if stanza_id is None else (stanza_id.get("id"), stanza_id.get("by"))
        say("GROUPCHAT_IDS", message["from"].bare, message["from"].resource,
            "id=" + (message["id"] or ""), "stanza-id=" + (sid or ""), "by=" + (by or ""))

    def tombstone(self, message):
        stanza_id = message.xml.find("{urn:xmpp:sid:0}stanza-id")
        say("TOMBSTONE", message["from"].bare, message["from"].resource,
            "stanza-id=" + ("" if stanza_id is None else stanza_id.get("id")))

    def groupchat_subject(self, message):
        say("SUBJECT", message["from"].bare, message["subject"])

    def groupchat_presence(self, presence):
        codes = ",".join(sorted(str(c) for c in presence["muc"]["status_codes"]))
        say("OCCUPANT", presence["from"].bare, presence["from"].resource,
            "type=" + ("unavailable" if presence["type"] == "unavailable" else "available"),
            "jid=" + presence["muc"]["jid"].bare, "codes=" + codes)

    def left_room(self, presence):
        say("LEFT", presence["from"].bare, presence["from"].resource)

    def groupchat_invite(self, message):
        invite = message["muc"]["invite"]
        say("INVITED", message["from"].bare, "from=" + invite["from"].bare,
            "reason=" + (invite["reason"] or ""))

    def message(self, message):
        # Changes of earlier messages (their fallback bodies are no
        # message), from a person or (the occupant's JID) a room.
        change = change_of(message)
        if change and message["type"] != "error":
            kind, named, *rest = change
            sender = message["from"].full if message["type"] == "groupchat" else message["from"].bare
            say(kind, sender, named, *rest)
            return
        if message["type"] == "groupchat":
            return
        if message["type"] == "headline":
            say("HEADLINE", message["from"].full, "subject=" + message["subject"],
                "body=" + message["body"])
            return
        if message.xml.find("{http://jabber.org/protocol/muc#user}x") is not None:
            return  # an invitation: groupchat_invite reports it
        if message["type"] == "error":
            say("MESSAGE_ERROR", message["from"].bare, message["error"]["condition"])
            return
        sender = message["from"].bare
        displayed = message.xml.find("{urn:xmpp:chat-markers:0}displayed")
        if displayed is not None:
            say("DISPLAYED", sender, displayed.get("id"))
            return
        url = oob_url(message)
        if url:
            say("FILE", sender, url)
        if message["body"]:
            delayed = " (delayed)" if message["delay"]["stamp"] else ""
            say("MESSAGE", sender, message["body"] + delayed)
            say("DELIVERED", sender, message["id"], message["body"])
        elif message["chat_state"]:
            say("CHATSTATE", message["from"].bare, message["chat_state"])

    def carbon_sent(self, message):
        sent = message["carbon_sent"]
        say("CARBON_SENT", sent["to"].bare, sent["body"])
        url = oob_url(sent)
        if url:
            say("CARBON_FILE", sent["to"].bare, url)

    def roster_update(self, iq):
        for jid, item in iq["roster"]["items"].items():
            groups = ",".join(sorted(item["groups"]))
            say("ROSTER_PUSH", jid, "name=" + item["name"], "groups=" + groups,
                "subscription=" + item["subscription"])

    def type_to(self, to):
        """A message's type: `groupchat` to a room the client is in."""
        return "groupchat" if slixmpp.JID(to).bare in self["xep_0045"].rooms else "chat"

    async def find_upload_service(self):
        """slixmpp's own discovery of the upload service: Debian's slixmpp
        1.8.3 passes coroutines to asyncio.wait (get_info_from_domain),
        which Python 3.11 refuses, so the same walk is done here."""
        if self["xep_0363"].upload_service is not None:
            return
        items = await self["xep_0030"].get_items(jid=self.boundjid.domain)
        for item in items["disco_items"]["items"]:
            info = await self["xep_0030"].get_info(jid=item[0])
            identities = {(i[0], i[1]) for i in info["disco_info"]["identities"]}
            if ("store", "file") in identities and \
                    "urn:xmpp:http:upload:0" in info["disco_info"]["features"]:
                self["xep_0363"].upload_service = info["from"]
                return

    async def archive_query(self, iq):
        """Sends an archive query: an ARCHIVED line for each result, then ARCHIVE_END."""
        results = []
        handler = Callback("mam " + iq["id"], StanzaPath("message/mam_result@queryid=" + iq["id"]),
                           lambda message: results.append(message["mam_result"]))
        self.register_handler(handler)
        try:
            answer = await iq.send()
        finally:
            self.remove_handler("mam " + iq["id"])
        for result in results:
            forwarded = result["forwarded"]["stanza"]
            say("ARCHIVED", result["id"], forwarded["from"].bare, forwarded["to"].bare,
                forwarded["body"])
        # slixmpp's Fin has no interface for `complete`.
        fin = answer.xml.find("{urn:xmpp:mam:2}fin")
        say("ARCHIVE_END", "complete=" + (fin.get("complete") or "false"))

    async def run(self, line):
        command, _, rest = line.partition(" ")
        try:
            await self.command(command, rest)
        except IqError as error:
            say("IQ_ERROR", command, error.iq["error"]["condition"])
            print("IQ_ERROR", command, error.iq["error"]["text"], file=sys.stderr, flush=True)
        except IqTimeout:
            say("IQ_TIMEOUT", command)

    async def command(self, command, rest):
        if command == "presence":
            show, _, status = rest.partition(" ")
            self.send_presence(pshow=None if show in ("", "-") else show, pstatus=status or None)
        elif command == "message":
            to, _, text = rest.partition(" ")
            self.send_message(mto=to, mbody=text, mtype="chat")
        elif command == "message_with_id":
            to, _, rest = rest.partition(" ")
            message_id, _, text = rest.partition(" ")
            message = self.make_message(mto=to, mbody=text, mtype=self.type_to(to))
            message["id"] = message_id
            message.send()
        elif command == "correct":
            to, _, rest = rest.partition(" ")
            message_id, _, text = rest.partition(" ")
            message = self.make_message(mto=to, mbody=text, mtype=self.type_to(to))
            message.xml.append(ET.Element("{urn:xmpp:message-correct:0}replace", id=message_id))
            message.send()
        elif command == "retract":
            to, _, message_id = rest.partition(" ")
            self["xep_0424"].send_retraction(slixmpp.JID(to), message_id, mtype=self.type_to(to))
        elif command == "react":
            to, _, rest = rest.partition(" ")
            message_id, *emoji = rest.split(" ")
            message = self.make_message(mto=to, mtype=self.type_to(to))
            self["xep_0444"].set_reactions(message, message_id, [e for e in emoji if e])
            message.enable("store")
            message.send()
        elif command == "upload":
            # upload chat|groupchat TO PATH: XEP-0363 as slixmpp does it, then the
            # link as the message (with out-of-band data, as Conversations sends it).
            kind, _, rest = rest.partition(" ")
            to, _, path = rest.partition(" ")
            try:
                await self.find_upload_service()
                url = await self["xep_0363"].upload_file(Path(path), domain=self.boundjid.domain)
            except (FileTooBig, HTTPError, UploadServiceNotFound) as error:
                say("UPLOAD_FAILED", type(error).__name__, str(error).replace("\n", " "))
                return
            say("UPLOADED", url)
            message = self.make_message(mto=to, mbody=url, mtype=kind)
            message["oob"]["url"] = url
            message.send()
        elif command == "displayed":
            to, _, message_id = rest.partition(" ")
            self["xep_0333"].send_marker(slixmpp.JID(to), message_id, "displayed")
        elif command == "chatstate":
            to, _, state = rest.partition(" ")
            message = self.make_message(mto=to, mtype="chat")
            message["chat_state"] = state
            message.send()
        elif command == "roster":
            await self.get_roster()
            # The roster slixmpp keeps from the answer (reading the answer's
            # items again is slow in slixmpp: seconds for 800).
            for jid in sorted(self.client_roster.keys()):
                item = self.client_roster[jid]
                groups = ",".join(sorted(item["groups"]))
                say("ROSTER", jid, "name=" + item["name"], "groups=" + groups,
                    "subscription=" + item["subscription"])
            say("ROSTER_END")
        elif command == "roster_set":
            jid, name, groups = (rest.split(" ", 2) + ["", ""])[:3]
            await self.update_roster(jid, name="" if name == "-" else name,
                                     groups=[g for g in groups.split(",") if g])
            say("ROSTER_SET", jid)
        elif command == "roster_remove":
            await self.del_roster_item(rest)
            say("ROSTER_REMOVED", rest)
        elif command == "subscribe":
            self.send_presence(pto=rest, ptype="subscribe")
        elif command == "ping":
            rtt = await self["xep_0199"].ping(jid=self.boundjid.domain, timeout=10)
            say("PONG", "ok" if rtt is not None else "none")
        elif command == "disco":
            # disco [JID]: the server's, or (a room's) that JID's.
            info = await self["xep_0030"].get_info(jid=rest or self.boundjid.domain)
            identities = ",".join(f"{i[0]}/{i[1]}" for i in info["disco_info"]["identities"])
            features = ",".join(sorted(info["disco_info"]["features"]))
            say("DISCO", "identities=" + identities, "features=" + features)
        elif command == "disco_account":
            info = await self["xep_0030"].get_info(jid=self.boundjid.bare)
            identities = ",".join(f"{i[0]}/{i[1]}" for i in info["disco_info"]["identities"])
            features = ",".join(sorted(info["disco_info"]["features"]))
            say("DISCO", "identities=" + identities, "features=" + features)
        elif command == "mam":
            # mam WITH|- MAX [before=[ID]|after=ID]
            with_jid, max_items, *paging = rest.split(" ")
            iq = self.make_iq_set(ito=self.boundjid.bare)
            iq["mam"]["queryid"] = iq["id"]
            if with_jid != "-":
                iq["mam"]["with"] = slixmpp.JID(with_jid)
            iq["mam"]["rsm"]["max"] = max_items
            for page in paging:
                key, _, value = page.partition("=")
                # An empty <before/> asks for the last page.
                iq["mam"]["rsm"][key] = value if value else True
            await self.archive_query(iq)
        elif command == "mam_search":
            # mam_search WITH|- MAX WORDS: XEP-0431 full-text search of the archive.
            with_jid, max_items, words = rest.split(" ", 2)
            iq = self.make_iq_set(ito=self.boundjid.bare)
            iq["mam"]["queryid"] = iq["id"]
            if with_jid != "-":
                iq["mam"]["with"] = slixmpp.JID(with_jid)
            form = iq["mam"]["form"]
            form["type"] = "submit"
            # (Setting `with` made the form, with its FORM_TYPE.)
            if "FORM_TYPE" not in form.get_fields():
                form.add_field(var="FORM_TYPE", ftype="hidden", value="urn:xmpp:mam:2")
            form.add_field(var="{urn:xmpp:fulltext:0}fulltext", value=words)
            iq["mam"]["rsm"]["max"] = max_items
            await self.archive_query(iq)
        elif command == "vcard":
            iq = await self["xep_0054"].get_vcard(jid=rest or None, cached=False, local=False)
            card = iq.xml.find("{vcard-temp}vCard")
            fields = []
            for path in ("FN", "TITLE", "EMAIL/USERID", "TEL/NUMBER", "ADR/LOCALITY"):
                found = card.find("/".join("{vcard-temp}" + p for p in path.split("/")))
                if found is not None:
                    fields.append(path + "=" + (found.text or ""))
            say("VCARD", iq["from"].bare, " ".join(fields))
        elif command == "vcard4":
            # XEP-0292, asked for directly or (`vcard4 pep JID`) as the PEP node.
            how, _, jid = rest.partition(" ") if rest.startswith("pep ") else ("", "", rest)
            iq = self.make_iq_get(ito=jid or None)
            v4 = "{urn:ietf:params:xml:ns:vcard-4.0}"
            if how == "pep":
                pubsub = ET.SubElement(iq.xml, "{http://jabber.org/protocol/pubsub}pubsub")
                ET.SubElement(pubsub, "{http://jabber.org/protocol/pubsub}items",
                              node="urn:xmpp:vcard4")
            else:
                ET.SubElement(iq.xml, v4 + "vcard")
            answer = await iq.send()
            card = answer.xml.find(".//" + v4 + "vcard")
            fields = []
            for path in ("fn/text", "title/text", "email/text", "tel/text", "adr/locality"):
                found = card.find("/".join(v4 + p for p in path.split("/")))
                if found is not None:
                    fields.append(path + "=" + (found.text or ""))
            say("VCARD4", answer["from"].bare, " ".join(fields))
        elif command == "carbons":
            await self["xep_0280"].enable()
            say("CARBONS_ON")
        elif command == "join":
            room, _, nick = rest.partition(" ")
            self["xep_0045"].join_muc(room, nick or "me")
        elif command == "groupchat":
            room, _, text = rest.partition(" ")
            self.send_message(mto=room, mbody=text, mtype="groupchat")
        elif command == "invite":
            room, _, jid = rest.partition(" ")
            self["xep_0045"].invite(room, jid, reason="")
        elif command == "leave":
            room, _, nick = rest.partition(" ")
            self["xep_0045"].leave_muc(room, nick or "me")
        elif command == "flood":
            # Pings as fast as slixmpp writes them; the refusals are reported.
            self.register_handler(Callback("refused", StanzaPath("iq@type=error"), lambda iq: say(
                "IQ_REFUSED", iq["error"]["condition"], iq["error"]["type"])))
            for n in range(int(rest)):
                iq = self.make_iq_get(ito=self.boundjid.domain)
                iq.enable("ping")
                iq.send(callback=lambda _: None)
                if n % 10 == 9:
                    # Let the answers in between: a client that only
                    # writes never reads the refusals before the cut-off.
                    await asyncio.sleep(0.001)
            say("FLOODED", rest)
        elif command == "raw":
            self.send_raw(rest)
        elif command == "drop":
            # The network goes away: no </stream>, no TLS close_notify.
            self.dropped = True
            self.transport.abort()
        elif command == "resume_as":
            # The next `reconnect` resumes the session of this id (having
            # handled that many of its stanzas, if given).
            sm_id, _, handled = rest.partition(" ")
            self["xep_0198"].sm_id = sm_id
            if handled:
                self["xep_0198"].handled = int(handled)
        elif command == "sm_handled":
            say("SM_HANDLED", self["xep_0198"].handled)
        elif command == "reconnect":
            self.dropped = False
            self.start_connecting()
        elif command == "quit":
            self.quit()
        else:
            say("ERROR", "unknown command", command)


def main():
    # Errors in event handlers go to stderr, which test failures show.
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    # Debian's slixmpp 1.8.3 prints the delay of every room message that
    # comes while joining (a debug print left in xep_0045/muc.py): stdout
    # is for this client's event lines only.
    import slixmpp.plugins.xep_0045.muc as muc_plugin
    muc_plugin.print = lambda *_, **__: None
    args = sys.argv[1:]
    sm = "--sm" in args
    if sm:
        args.remove("--sm")
    jid, password, host, port, mode = args[:5]
    if len(args) > 5:
        jid = jid + "/" + args[5]
    client = Client(jid, password, direct=(mode == "direct"), sm=sm, address=(host, int(port)))
    loop = client.loop

    def read_commands():
        for line in sys.stdin:
            line = line.rstrip("\n")
            if line:
                asyncio.run_coroutine_threadsafe(client.run(line), loop)
        loop.call_soon_threadsafe(client.quit)

    threading.Thread(target=read_commands, daemon=True).start()
    client.start_connecting()
    loop.run_until_complete(client.done)


if __name__ == "__main__":
    main()
