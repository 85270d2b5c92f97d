#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""omemo_peer.py - an OMEMO device of python3-omemo (python3-oldmemo for
eu.siacs.conversations.axolotl, python3-twomemo for urn:xmpp:omemo:2),
with PEP replaced by files: the other side of t0029-omemo-interop.sh.
Its state is DIR/store.json; its own bundle DIR/own-bundle.xml; the
empty key-transport messages the library sends go to DIR/kt-N.xml.

  omemo_peer.py old|two DIR JID bundle OUT.xml
      write our bundle; print our device id
  omemo_peer.py old|two DIR JID fingerprint [PEERJID]
      our fingerprint, or DEVICE and fingerprint of each of PEERJID's
  omemo_peer.py old|two DIR JID encrypt PEERJID PEERDEV PEERBUNDLE.xml TEXT OUT.xml
  omemo_peer.py old|two DIR JID decrypt PEERJID PEERDEV PEERBUNDLE.xml IN.xml
      print the text (for omemo:2 the envelope's body, after checking
      that its <from/> is PEERJID), or "key-transport"

Exit status 0, 1 when decryption failed, 2 for anything else.
"""
import asyncio
import json
import os
import sys
import xml.etree.ElementTree as ET

import omemo
import oldmemo
import oldmemo.etree
import twomemo
import twomemo.etree

NSARG, DIR, JID, CMD = sys.argv[1:5]
OLD, TWO = oldmemo.oldmemo.NAMESPACE, twomemo.twomemo.NAMESPACE
NS = OLD if NSARG == "old" else TWO
ETREE = oldmemo.etree if NS == OLD else twomemo.etree
SCE = "urn:xmpp:sce:1"
os.makedirs(DIR, exist_ok=True)


def path(name):
    return os.path.join(DIR, name)


class Store(omemo.Storage):
    """omemo's storage over one JSON file, written whole and renamed"""

    def __init__(self):
        super().__init__()
        self.d = {}
        if os.path.exists(path("store.json")):
            with open(path("store.json")) as f:
                self.d = json.load(f)

    def _flush(self):
        with open(path("store.json.tmp"), "w") as f:
            json.dump(self.d, f)
        os.replace(path("store.json.tmp"), path("store.json"))

    async def _load(self, key):
        return omemo.Just(self.d[key]) if key in self.d else omemo.Nothing()

    async def _store(self, key, value):
        self.d[key] = value
        self._flush()

    async def _delete(self, key):
        self.d.pop(key, None)
        self._flush()


class Manager(omemo.SessionManager):
    @staticmethod
    async def _upload_bundle(bundle):
        with open(path("own-bundle.xml"), "wb") as f:
            f.write(ET.tostring(ETREE.serialize_bundle(bundle)))

    @staticmethod
    async def _download_bundle(namespace, bare_jid, device_id):
        elt = ET.parse(path("peer-bundle.xml")).getroot()
        return ETREE.parse_bundle(elt, bare_jid, device_id)

    @staticmethod
    async def _delete_bundle(namespace, device_id):
        pass

    @staticmethod
    async def _upload_device_list(namespace, device_list):
        with open(path("own-devices.json"), "w") as f:
            json.dump({str(k): v for k, v in device_list.items()}, f)

    @staticmethod
    async def _download_device_list(namespace, bare_jid):
        name = "own-devices.json" if bare_jid == JID else "peer-devices.json"
        if not os.path.exists(path(name)):
            return {}
        with open(path(name)) as f:
            return {int(k): v for k, v in json.load(f).items()}

    async def _evaluate_custom_trust_level(self, device):
        if device.trust_level_name == "blind":
            return omemo.TrustLevel.TRUSTED
        return omemo.TrustLevel.UNDECIDED

    async def _make_trust_decision(self, undecided, identifier):
        for device in undecided:
            await self.set_trust(device.bare_jid, device.identity_key, "blind")

    @staticmethod
    async def _send_message(message, bare_jid):
        n = len([f for f in os.listdir(DIR) if f.startswith("kt-")])
        with open(path(f"kt-{n + 1}.xml"), "wb") as f:
            f.write(ET.tostring(ETREE.serialize_message(message)))


def peer_files(peer_dev, peer_bundle):
    with open(path("peer-devices.json"), "w") as f:
        json.dump({str(peer_dev): None}, f)
    with open(peer_bundle, "rb") as src, open(path("peer-bundle.xml"), "wb") as dst:
        dst.write(src.read())


def envelope(text):
    env = ET.Element(f"{{{SCE}}}envelope")
    content = ET.SubElement(env, f"{{{SCE}}}content")
    ET.SubElement(content, "{jabber:client}body").text = text
    ET.SubElement(env, f"{{{SCE}}}rpad").text = "xyz"
    ET.SubElement(env, f"{{{SCE}}}from", jid=JID)
    return ET.tostring(env)


async def main():
    store = Store()
    backend = oldmemo.Oldmemo(store) if NS == OLD else twomemo.Twomemo(store)
    sm = await Manager.create([backend], store, JID, None, "blind")
    own, _ = await sm.get_own_device_information()
    if CMD == "fingerprint":
        # as python-omemo prints them: ours, or those of PEERJID's devices
        if len(sys.argv) == 5:
            print(" ".join(sm.format_identity_key(own.identity_key)))
        else:
            for dev in sorted(await sm.get_device_information(sys.argv[5]),
                              key=lambda d: d.device_id):
                print(f"{dev.device_id}\t{' '.join(sm.format_identity_key(dev.identity_key))}")
        return 0
    if CMD == "bundle":
        with open(path("own-bundle.xml"), "rb") as src, open(sys.argv[5], "wb") as dst:
            dst.write(src.read())
        print(own.device_id)
        return 0
    peer, peer_dev, peer_bundle = sys.argv[5], int(sys.argv[6]), sys.argv[7]
    peer_files(peer_dev, peer_bundle)
    if CMD == "encrypt":
        text, out = sys.argv[8], sys.argv[9]
        await sm.refresh_device_list(NS, peer)
        plain = text.encode() if NS == OLD else envelope(text)
        msgs, errs = await sm.encrypt(frozenset([peer]), {NS: plain}, [NS])
        for e in errs:
            print(f"omemo_peer: encryption error: {e}", file=sys.stderr)
        (msg, _), = msgs.items()
        with open(out, "wb") as f:
            f.write(ET.tostring(ETREE.serialize_message(msg)))
        return 0
    if CMD == "decrypt":
        elt = ET.parse(sys.argv[8]).getroot()
        if NS == OLD:
            msg = await oldmemo.etree.parse_message(elt, peer, JID, sm)
        else:
            msg = twomemo.etree.parse_message(elt, peer)
        try:
            plain, dev, _ = await sm.decrypt(msg)
        except Exception as e:  # what the library refuses, by its name
            print(f"refused\t{type(e).__name__}: {e}")
            return 1
        # what a client does once it has caught up: send the empty
        # messages queued meanwhile (one completes a key exchange)
        await sm.after_history_sync()
        if plain is None:
            print("key-transport")
            return 0
        if NS == TWO:
            env = ET.fromstring(plain)
            sender = env.find(f"{{{SCE}}}from").get("jid")
            if sender != peer:
                print(f"refused\tenvelope from {sender}")
                return 1
            plain = env.find(f"{{{SCE}}}content/{{jabber:client}}body").text.encode()
        print(f"{dev.device_id}\t{plain.decode()}")
        return 0
    print(f"omemo_peer: bad command {CMD}", file=sys.stderr)
    return 2


sys.exit(asyncio.run(main()))
