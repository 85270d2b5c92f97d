#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""omemo_netpeer.py - an OMEMO peer on the network for t0032-omemo.sh, over
Debian 12's python3-omemo, -oldmemo, -twomemo and slixmpp (no slixmpp-omemo plugin: the PEP glue is here).

  omemo_netpeer.py --jid J --password P --server 127.0.0.1:PORT --cafile CA
          [--ns old|two|both] [--store FILE] (publish | send JID TEXT | receive --count N)

send: fetch the recipient's device list and bundles, encrypt TEXT in the
namespace given (old: eu.siacs.conversations.axolotl, two: urn:xmpp:omemo:2;
both: prefer two where the device has it), send it, exit 0.
publish: publish device list and bundle, exit 0.
receive: publish device list and bundle (access_model open), print each
decrypted message as "NS<TAB>SENDER<TAB>DEVICE<TAB>TEXT", exit after N.
Empty key-transport messages are handled quietly (not counted).
Device, keys and sessions live in --store (JSON), else in memory.
"""
import argparse
import asyncio
import base64
import json
import logging
import os
import sys
import xml.etree.ElementTree as ET
from typing import Any, Dict, Optional

import omemo
import oldmemo
import oldmemo.etree
import twomemo
import twomemo.etree
from slixmpp import ClientXMPP, JID
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.plugins.xep_0004 import Form

OLD = oldmemo.oldmemo.NAMESPACE          # eu.siacs.conversations.axolotl
TWO = twomemo.twomemo.NAMESPACE          # urn:xmpp:omemo:2
SCE = "urn:xmpp:sce:1"
XMPP = None                              # the client, for the static hooks
log = logging.getLogger("peer")


class Store(omemo.Storage):
    """JSON storage: a dict, written whole and renamed on each change."""

    def __init__(self, path: Optional[str]) -> None:
        super().__init__()
        self.path = path
        self.data: Dict[str, Any] = {}
        if path and os.path.exists(path):
            with open(path) as f:
                self.data = json.load(f)

    def _flush(self) -> None:
        if self.path:
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                json.dump(self.data, f)
            os.replace(tmp, self.path)

    async def _load(self, key: str) -> omemo.Maybe[omemo.JSONType]:
        return omemo.Just(self.data[key]) if key in self.data else omemo.Nothing()

    async def _store(self, key: str, value: omemo.JSONType) -> None:
        self.data[key] = value
        self._flush()

    async def _delete(self, key: str) -> None:
        self.data.pop(key, None)
        self._flush()


def open_options(max_items: Optional[str] = None) -> Form:
    form = Form()
    form["type"] = "submit"
    form.add_field(var="FORM_TYPE", ftype="hidden",
                   value="http://jabber.org/protocol/pubsub#publish-options")
    form.add_field(var="pubsub#access_model", value="open")
    if max_items:
        form.add_field(var="pubsub#max_items", value=max_items)
    return form


async def pep_publish(node: str, item_id: str, payload: ET.Element, max_items: Optional[str] = None) -> None:
    await XMPP["xep_0060"].publish(XMPP.boundjid.bare, node, id=item_id, payload=payload,
                                   options=open_options(max_items))


async def pep_items(jid: str, node: str, item_id: Optional[str] = None):
    """the payloads of a node (or of one item), [] if node or item is missing"""
    try:
        if item_id is None:
            iq = await XMPP["xep_0060"].get_items(jid, node)
        else:
            iq = await XMPP["xep_0060"].get_item(jid, node, item_id)
    except IqError as e:
        if e.condition == "item-not-found":
            return []
        raise
    return [item.xml[0] for item in iq["pubsub"]["items"] if len(item.xml)]


class Manager(omemo.SessionManager):
    @staticmethod
    async def _upload_bundle(bundle: omemo.Bundle) -> None:
        try:
            if isinstance(bundle, oldmemo.oldmemo.BundleImpl):
                await pep_publish(f"{OLD}.bundles:{bundle.device_id}", "current",
                                  oldmemo.etree.serialize_bundle(bundle))
            elif isinstance(bundle, twomemo.twomemo.BundleImpl):
                await pep_publish(f"{TWO}:bundles", str(bundle.device_id),
                                  twomemo.etree.serialize_bundle(bundle), max_items="max")
        except (IqError, IqTimeout) as e:
            raise omemo.BundleUploadFailed(str(e)) from e

    @staticmethod
    async def _download_bundle(namespace: str, bare_jid: str, device_id: int) -> omemo.Bundle:
        try:
            if namespace == OLD:
                items = await pep_items(bare_jid, f"{OLD}.bundles:{device_id}")
                if items:
                    return oldmemo.etree.parse_bundle(items[-1], bare_jid, device_id)
            else:
                items = await pep_items(bare_jid, f"{TWO}:bundles", str(device_id))
                if items:
                    return twomemo.etree.parse_bundle(items[-1], bare_jid, device_id)
        except (IqError, IqTimeout, ValueError) as e:
            raise omemo.BundleDownloadFailed(f"{bare_jid}/{device_id}: {e}") from e
        raise omemo.BundleDownloadFailed(f"{bare_jid}/{device_id}: no bundle")

    @staticmethod
    async def _delete_bundle(namespace: str, device_id: int) -> None:
        try:
            if namespace == OLD:
                await XMPP["xep_0060"].delete_node(XMPP.boundjid.bare, f"{OLD}.bundles:{device_id}")
            else:
                await XMPP["xep_0060"].retract(XMPP.boundjid.bare, f"{TWO}:bundles", str(device_id), notify=True)
        except (IqError, IqTimeout) as e:
            raise omemo.BundleDeletionFailed(str(e)) from e

    @staticmethod
    async def _upload_device_list(namespace: str, device_list: Dict[int, Optional[str]]) -> None:
        try:
            if namespace == OLD:
                await pep_publish(f"{OLD}.devicelist", "current",
                                  oldmemo.etree.serialize_device_list(device_list))
            else:
                await pep_publish(f"{TWO}:devices", "current",
                                  twomemo.etree.serialize_device_list(device_list))
        except (IqError, IqTimeout) as e:
            raise omemo.DeviceListUploadFailed(str(e)) from e

    @staticmethod
    async def _download_device_list(namespace: str, bare_jid: str) -> Dict[int, Optional[str]]:
        try:
            if namespace == OLD:
                items = await pep_items(bare_jid, f"{OLD}.devicelist")
                return oldmemo.etree.parse_device_list(items[-1]) if items else {}
            items = await pep_items(bare_jid, f"{TWO}:devices")
            return twomemo.etree.parse_device_list(items[-1]) if items else {}
        except (IqError, IqTimeout, ValueError) as e:
            raise omemo.DeviceListDownloadFailed(str(e)) from e

    async def _evaluate_custom_trust_level(self, device: omemo.DeviceInformation) -> omemo.TrustLevel:
        return {"blind": omemo.TrustLevel.TRUSTED,
                "distrusted": omemo.TrustLevel.DISTRUSTED}.get(device.trust_level_name,
                                                               omemo.TrustLevel.UNDECIDED)

    async def _make_trust_decision(self, undecided, identifier) -> None:
        for device in undecided:      # blind trust before verification
            await self.set_trust(device.bare_jid, device.identity_key, "blind")

    @staticmethod
    async def _send_message(message: omemo.Message, bare_jid: str) -> None:
        # empty (key transport) messages the library sends on its own
        send_stanza(message, bare_jid)


def serialize(message: omemo.Message) -> ET.Element:
    if message.namespace == OLD:
        return oldmemo.etree.serialize_message(message)
    return twomemo.etree.serialize_message(message)


def send_stanza(message: omemo.Message, bare_jid: str, fallback: Optional[str] = None) -> None:
    msg = XMPP.make_message(mto=bare_jid, mtype="chat")
    msg.xml.append(serialize(message))
    if fallback is not None:
        msg["body"] = fallback
        ET.SubElement(msg.xml, "{urn:xmpp:eme:0}encryption",
                      attrib={"namespace": message.namespace, "name": "OMEMO"})
    ET.SubElement(msg.xml, "{urn:xmpp:hints}store")
    msg.send()


def sce_envelope(text: str, sender: str) -> bytes:
    env = ET.Element(f"{{{SCE}}}envelope")
    content = ET.SubElement(env, f"{{{SCE}}}content")
    ET.SubElement(content, "{jabber:client}body").text = text
    ET.SubElement(env, f"{{{SCE}}}rpad").text = base64.b64encode(os.urandom(1 + os.urandom(1)[0] % 16)).decode()
    ET.SubElement(env, f"{{{SCE}}}from", attrib={"jid": sender})
    return ET.tostring(env, encoding="utf-8")


def sce_body(envelope: bytes, sender: str) -> str:
    env = ET.fromstring(envelope)
    frm = env.find(f"{{{SCE}}}from")
    if frm is not None and frm.get("jid") != sender:
        raise ValueError(f"SCE from {frm.get('jid')} is not the sender {sender}")
    body = env.find(f"{{{SCE}}}content/{{jabber:client}}body")
    return body.text or "" if body is not None else ""


class Peer(ClientXMPP):
    def __init__(self, args) -> None:
        super().__init__(args.jid, args.password)
        self.args = args
        self.rc = 1
        self.received = 0
        self.ca_certs = args.cafile
        for p in ("xep_0030", "xep_0004", "xep_0060", "xep_0163"):
            self.register_plugin(p)
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("message", self.on_message)
        self.manager: Optional[Manager] = None
        self.ready = asyncio.Event()

    def backends(self):
        store = self.store
        return {"old": [oldmemo.Oldmemo(store)], "two": [twomemo.Twomemo(store)],
                "both": [twomemo.Twomemo(store), oldmemo.Oldmemo(store)]}[self.args.ns]

    async def start(self, _event) -> None:
        try:
            self.store = Store(self.args.store)
            self.manager = await Manager.create(self.backends(), self.store, self.boundjid.bare,
                                                "xmpctl-test-peer", "blind")
            own, _ = await self.manager.get_own_device_information()
            print(f"device {own.device_id} namespaces {sorted(own.namespaces)} "
                  f"fingerprint {' '.join(Manager.format_identity_key(own.identity_key))}", file=sys.stderr)
            self.send_presence()
            self.ready.set()
            if self.args.cmd == "publish":
                self.rc = 0
                self.disconnect()
            elif self.args.cmd == "send":
                await self.do_send()
                self.rc = 0
                self.disconnect()
            else:
                print("ready", file=sys.stderr, flush=True)
        except Exception as e:  # noqa: BLE001 - a test peer reports and exits
            print(f"peer: {type(e).__name__}: {e}", file=sys.stderr)
            self.disconnect()

    async def do_send(self) -> None:
        to = JID(self.args.to).bare
        order = {"old": [OLD], "two": [TWO], "both": [TWO, OLD]}[self.args.ns]
        for ns in order:
            await self.manager.refresh_device_list(ns, to)
        plaintext = {OLD: self.args.text.encode("utf-8"),
                     TWO: sce_envelope(self.args.text, self.boundjid.bare)}
        messages, errors = await self.manager.encrypt(frozenset([to]), plaintext, order)
        for err in errors:
            print(f"peer: encryption error: {err}", file=sys.stderr)
        if not messages:
            raise RuntimeError(f"no device of {to} to encrypt for")
        for message in messages:
            print(f"sent {message.namespace} to {len(message.keys)} device(s)", file=sys.stderr)
            send_stanza(message, to, "[This message is OMEMO encrypted]")

    async def on_message(self, msg) -> None:
        await self.ready.wait()
        if self.args.cmd != "receive":
            return
        sender = msg["from"].bare
        for ns in (TWO, OLD):
            elt = msg.xml.find(f"{{{ns}}}encrypted")
            if elt is None:
                continue
            try:
                if ns == OLD:
                    message = await oldmemo.etree.parse_message(elt, sender, self.boundjid.bare, self.manager)
                else:
                    message = twomemo.etree.parse_message(elt, sender)
                plaintext, device, _ = await self.manager.decrypt(message)
            except Exception as e:  # noqa: BLE001
                print(f"peer: cannot decrypt from {sender}: {type(e).__name__}: {e}", file=sys.stderr)
                return
            if plaintext is None:
                print(f"key transport from {sender}/{device.device_id} ({ns})", file=sys.stderr)
                return
            text = plaintext.decode("utf-8") if ns == OLD else sce_body(plaintext, sender)
            print(f"{ns}\t{sender}\t{device.device_id}\t{text}", flush=True)
            self.received += 1
            if self.received >= self.args.count:
                self.rc = 0
                self.disconnect()
            return


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jid", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--server", required=True, help="HOST:PORT (STARTTLS)")
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--ns", choices=("old", "two", "both"), default="both")
    ap.add_argument("--store")
    ap.add_argument("--debug", action="store_true")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("send")
    s.add_argument("to")
    s.add_argument("text")
    sub.add_parser("publish")
    r = sub.add_parser("receive")
    r.add_argument("--count", type=int, default=1)
    args = ap.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.ERROR)
    global XMPP
    XMPP = Peer(args)
    host, port = args.server.rsplit(":", 1)
    XMPP.connect((host, int(port)))
    XMPP.loop.run_until_complete(XMPP.disconnected)
    return XMPP.rc


if __name__ == "__main__":
    sys.exit(main())
