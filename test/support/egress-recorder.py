#!/usr/bin/env python3
# Egress recorder for the zero-egress test: listens on one interface with an AF_PACKET socket (root) and
# prints one JSON line per IP packet that arrives from the other side of the link (TCP SYNs, UDP datagrams
# with the DNS name asked, anything else by protocol). ARP and IPv6 link-local traffic (neighbour discovery,
# router solicitations, MLD) are not connections and are left out. Usage: egress-recorder.py IFNAME
import json
import socket
import struct
import sys

PACKET_OUTGOING = 4


def dns_name(payload: bytes) -> str:
    # Header is 12 bytes, then the first question's labels.
    i, labels = 12, []
    while i < len(payload):
        n = payload[i]
        if n == 0 or n >= 0xC0:
            break
        labels.append(payload[i + 1 : i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    return ".".join(labels)


def transport(proto: int, seg: bytes, rec: dict) -> None:
    if proto == 6 and len(seg) >= 14:
        rec["proto"] = "tcp"
        rec["sport"], rec["dport"] = struct.unpack("!HH", seg[:4])
        rec["syn"] = bool(seg[13] & 0x02) and not bool(seg[13] & 0x10)
    elif proto == 17 and len(seg) >= 8:
        rec["proto"] = "udp"
        rec["sport"], rec["dport"] = struct.unpack("!HH", seg[:4])
        if rec["dport"] == 53:
            rec["dns"] = dns_name(seg[8:])
    else:
        rec["proto"] = str(proto)


def main() -> None:
    ifname = sys.argv[1]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
    s.bind((ifname, 0))
    print(json.dumps({"ready": ifname}), flush=True)
    while True:
        frame, addr = s.recvfrom(65535)
        if addr[2] == PACKET_OUTGOING or len(frame) < 14:
            continue
        eth_type = struct.unpack("!H", frame[12:14])[0]
        ip = frame[14:]
        rec: dict = {}
        if eth_type == 0x0800 and len(ip) >= 20:
            ihl = (ip[0] & 0x0F) * 4
            rec["family"] = 4
            rec["src"] = socket.inet_ntop(socket.AF_INET, ip[12:16])
            rec["dst"] = socket.inet_ntop(socket.AF_INET, ip[16:20])
            transport(ip[9], ip[ihl:], rec)
        elif eth_type == 0x86DD and len(ip) >= 40:
            dst = socket.inet_ntop(socket.AF_INET6, ip[24:40])
            src = socket.inet_ntop(socket.AF_INET6, ip[8:24])
            if dst.startswith("ff02:") or dst.startswith("fe80:") or src == "::":
                continue
            rec["family"] = 6
            rec["src"], rec["dst"] = src, dst
            transport(ip[6], ip[40:], rec)
        else:
            continue
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
