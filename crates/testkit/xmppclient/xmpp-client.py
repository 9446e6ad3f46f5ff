"""A scripted XMPP client on slixmpp, for Simul's tests: commands on stdin,
one event a line on stdout (see crates/testkit/src/xmppclient.rs).

Usage: xmpp-client.py JID PASSWORD HOST PORT starttls|direct [RESOURCE]
"""

import asyncio
import logging
import ssl
import sys
import threading
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import StanzaPath


def say(*parts):
    text = " ".join(str(p) for p in parts)
    print(text.replace("\n", "\\n").replace("\r", "\\r"), flush=True)


class Client(slixmpp.ClientXMPP):
    def __init__(self, jid, password, direct):
        super().__init__(jid, password)
        # The server's certificate is the test deployment's self-signed one.
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0085")
        self.register_plugin("xep_0199")
        self.register_plugin("xep_0054")
        self.register_plugin("xep_0280")
        self.register_plugin("xep_0045")
        self.add_event_handler("groupchat_message", self.groupchat_message)
        self.add_event_handler("groupchat_subject", self.groupchat_subject)
        self.add_event_handler("groupchat_presence", self.groupchat_presence)
        self.add_event_handler("groupchat_invite", self.groupchat_invite)
        # slixmpp forgets a room before the server confirms the leave:
        # catch that presence here.
        self.register_handler(Callback("left room", StanzaPath("presence@type=unavailable/muc"),
                                       self.left_room))
        self.add_event_handler("carbon_sent", self.carbon_sent)
        self.add_event_handler("session_start", self.started)
        self.add_event_handler("failed_auth", lambda _: say("FAILED_AUTH"))
        self.add_event_handler(
            "auth_success", lambda _: say("AUTH", self["feature_mechanisms"].mech.name))
        self.add_event_handler("disconnected", lambda reason: say("DISCONNECTED", reason))
        self.add_event_handler("stream_error", self.stream_error)
        self.add_event_handler("presence", self.presence)
        self.add_event_handler("message", self.message)
        self.add_event_handler("message_error", self.message)
        self.add_event_handler("roster_update", self.roster_update)

    async def started(self, _):
        say("SESSION_START", self.boundjid.full)

    def stream_error(self, error):
        say("STREAM_ERROR", error["condition"], error["text"])

    def presence(self, presence):
        kind = presence["type"]
        if kind in ("available", "away", "dnd", "xa", "chat"):
            kind = "available"
        say("PRESENCE", presence["from"].bare, "type=" + kind,
            "show=" + (presence["show"] or ""), "status=" + (presence["status"] or ""))

    def groupchat_message(self, message):
        if not message["body"]:
            return
        delayed = " (delayed)" if message["delay"]["stamp"] else ""
        say("GROUPCHAT", message["from"].bare, message["from"].resource, message["body"] + delayed)

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
        if message["type"] == "groupchat":
            return
        if message.xml.find("{http://jabber.org/protocol/muc#user}x") is not None:
            return  # an invitation: groupchat_invite reports it
        if message["type"] == "error":
            say("MESSAGE_ERROR", message["from"].bare, message["error"]["condition"])
            return
        if message["body"]:
            say("MESSAGE", message["from"].bare, message["body"])
        elif message["chat_state"]:
            say("CHATSTATE", message["from"].bare, message["chat_state"])

    def carbon_sent(self, message):
        sent = message["carbon_sent"]
        say("CARBON_SENT", sent["to"].bare, sent["body"])

    def roster_update(self, iq):
        for jid, item in iq["roster"]["items"].items():
            groups = ",".join(sorted(item["groups"]))
            say("ROSTER_PUSH", jid, "name=" + item["name"], "groups=" + groups,
                "subscription=" + item["subscription"])

    async def run(self, line):
        command, _, rest = line.partition(" ")
        try:
            await self.command(command, rest)
        except IqError as error:
            say("IQ_ERROR", command, error.iq["error"]["condition"])
        except IqTimeout:
            say("IQ_TIMEOUT", command)

    async def command(self, command, rest):
        if command == "presence":
            show, _, status = rest.partition(" ")
            self.send_presence(pshow=None if show in ("", "-") else show, pstatus=status or None)
        elif command == "message":
            to, _, text = rest.partition(" ")
            self.send_message(mto=to, mbody=text, mtype="chat")
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
            info = await self["xep_0030"].get_info(jid=self.boundjid.domain)
            identities = ",".join(f"{i[0]}/{i[1]}" for i in info["disco_info"]["identities"])
            features = ",".join(sorted(info["disco_info"]["features"]))
            say("DISCO", "identities=" + identities, "features=" + features)
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
        elif command == "raw":
            self.send_raw(rest)
        elif command == "quit":
            self.disconnect()
        else:
            say("ERROR", "unknown command", command)


def main():
    # Errors in event handlers go to stderr, which test failures show.
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    jid, password, host, port, mode = sys.argv[1:6]
    if len(sys.argv) > 6:
        jid = jid + "/" + sys.argv[6]
    client = Client(jid, password, direct=(mode == "direct"))
    loop = asyncio.get_event_loop()

    def read_commands():
        for line in sys.stdin:
            line = line.rstrip("\n")
            if line:
                asyncio.run_coroutine_threadsafe(client.run(line), loop)
        loop.call_soon_threadsafe(client.disconnect)

    threading.Thread(target=read_commands, daemon=True).start()
    client.connect(address=(host, int(port)), use_ssl=(mode == "direct"),
                   force_starttls=(mode != "direct"), disable_starttls=(mode == "direct"))
    client.process(forever=False)


if __name__ == "__main__":
    main()
