#!/bin/busybox sh
# The micro-VM's first process (busybox sh in the initramfs): loads the drivers, finds the disks
# by their virtio serial numbers, builds the root (the read-only runtime squashfs under a tmpfs
# overlay, or an instance's writable disk), mounts the program's disks, brings up the network,
# and hands over to the guest init (ours for programs, the image's for instances).
#
# Kernel command line: aleph.mode=program|instance|probe, aleph.hostname=NAME, aleph.net=1,
# aleph.disk=SERIAL,FSTYPE,ro|rw,MOUNTPOINT (repeated), aleph.tmpfs=SIZE_MIB,MOUNTPOINT (repeated).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

fail() {
    echo "aleph-initramfs: $*" >/dev/console
    sync
    reboot -f
}

for m in $(cat /lib/modules/order); do
    insmod "/lib/modules/$m.ko" 2>/dev/null || true
done

mode=program hostname=aleph net=0 disks="" tmpfses=""
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        aleph.mode=*) mode="${arg#aleph.mode=}" ;;
        aleph.hostname=*) hostname="${arg#aleph.hostname=}" ;;
        aleph.net=*) net="${arg#aleph.net=}" ;;
        aleph.disk=*) disks="$disks ${arg#aleph.disk=}" ;;
        aleph.tmpfs=*) tmpfses="$tmpfses ${arg#aleph.tmpfs=}" ;;
    esac
done

if [ "$mode" = probe ]; then
    echo "ALEPH-PROBE-OK $(uname -r)" >/dev/console
    reboot -f
fi

# /dev/vdX of the disk whose virtio serial is $1.
disk() {
    n=0
    while [ $n -lt 100 ]; do
        for s in /sys/block/vd*/serial; do
            [ -e "$s" ] && [ "$(cat "$s")" = "$1" ] && { d="${s%/serial}"; echo "/dev/${d##*/}"; return 0; }
        done
        n=$((n + 1))
        sleep 0.05
    done
    return 1
}

root=$(disk root) || fail "no root disk"
if [ "$mode" = instance ]; then
    # The disk itself, or its first partition holding ext4 (partitioned cloud images).
    mounted=""
    for dev in "$root" "${root}1" "${root}2"; do
        [ -b "$dev" ] && mount -t ext4 -o rw "$dev" /newroot 2>/dev/null && { mounted=$dev; break; }
    done
    [ -n "$mounted" ] || fail "cannot mount the instance's root filesystem $root"
else
    mount -t squashfs -o ro "$root" /lower || fail "cannot mount the runtime $root"
    mount -t tmpfs -o mode=0755 tmpfs /upper
    mkdir -p /upper/rw /upper/work
    mount -t overlay -o lowerdir=/lower,upperdir=/upper/rw,workdir=/upper/work overlay /newroot \
        || fail "cannot mount the root overlay"
    for d in dev proc sys tmp run opt data var/tmp; do
        mkdir -p "/newroot/$d"
    done
    chmod 1777 /newroot/tmp /newroot/var/tmp
    for t in $tmpfses; do
        size="${t%%,*}" point="${t#*,}"
        mkdir -p "/newroot$point" && mount -t tmpfs -o "size=${size}m" tmpfs "/newroot$point" \
            || fail "cannot mount a tmpfs at $point"
    done
    for spec in $disks; do
        serial="${spec%%,*}" rest="${spec#*,}"
        fstype="${rest%%,*}" rest="${rest#*,}"
        opt="${rest%%,*}" point="${rest#*,}"
        dev=$(disk "$serial") || fail "no disk $serial"
        mkdir -p "/newroot$point" && mount -t "$fstype" -o "$opt" "$dev" "/newroot$point" \
            || fail "cannot mount $serial at $point"
    done
    echo "$hostname" >/newroot/etc/hostname
fi
hostname "$hostname"
ip link set lo up
if [ "$net" = 1 ]; then
    # QEMU's user-mode network (slirp): fixed guest address, gateway and DNS.
    ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2 \
        || echo "aleph-initramfs: network setup failed" >/dev/console
    [ "$mode" = program ] && echo "nameserver 10.0.2.3" >/newroot/etc/resolv.conf
fi

mount --move /dev /newroot/dev
mount --move /proc /newroot/proc
mount --move /sys /newroot/sys
if [ "$mode" = instance ]; then
    exec switch_root /newroot /sbin/init
fi
exec switch_root /newroot /usr/bin/python3 /usr/lib/aleph/guest_init.py
