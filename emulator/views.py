"""Reply items exactly as the official spec shapes them (member names, types, nesting, nulls).

Every member the spec marks `output_required` is present. Nulls appear only where Tencent sends them:
members the spec allows to be null, plus `RenewFlag` and `ExpiredTime` of pay-as-you-go instances (null at
Tencent although the spec does not flag them). `tests/emulator/test_conformance.py` holds us to this.
Localised names are picked per request; instance items carry none, so they are cached on the instance.
"""

from __future__ import annotations

from typing import Any

from emulator.i18n import pick
from emulator.model import Image, Instance, InstanceFamily, InstanceType, SecurityGroup, Subnet, Vpc, Zone
from emulator.network import RESERVED_PER_SUBNET

DNS_SERVERS = ["183.60.83.19", "183.60.82.98"]  # Tencent's VPC resolvers


def instance(item: Instance) -> dict[str, Any]:
    """The DescribeInstances item; built once per change of the instance."""
    if item.rendered is None:
        item.rendered = _instance(item)
    return item.rendered


def _instance(item: Instance) -> dict[str, Any]:
    return {
        "Placement": {"Zone": item.zone, "ProjectId": item.project_id},
        "InstanceId": item.instance_id,
        "InstanceType": item.instance_type,
        "CPU": item.cpu,
        "Memory": item.memory,
        "RestrictState": item.restrict_state,
        "InstanceName": item.name,
        "InstanceChargeType": item.charge_type,
        "SystemDisk": {
            "DiskType": item.system_disk.disk_type,
            "DiskId": item.system_disk.disk_id,
            "DiskSize": item.system_disk.disk_size,
            "Encrypt": False,
            "KmsKeyId": "",
        },
        "DataDisks": [
            {
                "DiskSize": disk.disk_size,
                "DiskType": disk.disk_type,
                "DiskId": disk.disk_id,
                "DeleteWithInstance": disk.delete_with_instance,
                "Encrypt": False,
                "KmsKeyId": None,
            }
            for disk in item.data_disks
        ],
        "PrivateIpAddresses": list(item.private_ips),
        "PublicIpAddresses": list(item.public_ips) if item.public_ips else None,
        "InternetAccessible": {
            "InternetChargeType": item.internet_charge_type,
            "InternetMaxBandwidthOut": item.bandwidth_out,
            "PublicIpAssigned": bool(item.public_ips),
        },
        "VirtualPrivateCloud": {
            "VpcId": item.vpc_id,
            "SubnetId": item.subnet_id,
            "AsVpcGateway": False,
        },
        "ImageId": item.image_id,
        "RenewFlag": item.renew_flag,
        "CreatedTime": item.created_time,
        "ExpiredTime": item.expired_time,
        "OsName": item.os_name,
        "SecurityGroupIds": list(item.security_group_ids),
        "LoginSettings": dict(item.login),
        "InstanceState": item.state,
        "Tags": [{"Key": key, "Value": value} for key, value in item.tags.items()],
        "StopChargingMode": item.stop_charging_mode,
        "Uuid": item.uuid,
        "LatestOperation": item.latest_operation,
        "LatestOperationState": item.latest_operation_state,
        "LatestOperationRequestId": item.latest_operation_request_id,
        "DisasterRecoverGroupId": "",
        "IPv6Addresses": None,
        "CamRoleName": item.cam_role_name,
        "HpcClusterId": "",
        "RdmaIpAddresses": [],
        "DedicatedClusterId": "",
        "IsolatedSource": item.isolated_source,
        "DisasterRecoverGroupIds": [],
        "LicenseType": "TencentCloud",
        "DisableApiTermination": item.disable_api_termination,
        "HostName": item.host_name,
        "DefaultLoginUser": item.default_login_user,
        "DefaultLoginPort": item.default_login_port,
        "LatestOperationErrorMsg": item.latest_operation_error,
    }


def instance_status(item: Instance) -> dict[str, Any]:
    return {"InstanceId": item.instance_id, "InstanceState": item.state}


def zone(item: Zone, language: str) -> dict[str, Any]:
    return {
        "Zone": item.zone,
        "ZoneName": pick(item.names, language),
        "ZoneId": item.zone_id,
        "ZoneState": item.state,
    }


def family(item: InstanceFamily, language: str) -> dict[str, Any]:
    return {"InstanceFamilyName": pick(item.names, language), "InstanceFamily": item.family}


def instance_type(item: InstanceType, zone_name: str) -> dict[str, Any]:
    return {
        "Zone": zone_name,
        "InstanceType": item.instance_type,
        "InstanceFamily": item.family,
        "GPU": item.gpu,
        "CPU": item.cpu,
        "Memory": item.memory,
        "FPGA": item.fpga,
        "GpuCount": item.gpu_count,
    }


def image(item: Image) -> dict[str, Any]:
    return {
        "ImageId": item.image_id,
        "OsName": item.os_name,
        "ImageType": item.image_type,
        "CreatedTime": item.created_time,
        "ImageName": item.image_name,
        "ImageDescription": item.description,
        "ImageSize": item.image_size,
        "Architecture": item.architecture,
        "ImageState": "NORMAL",
        "Platform": item.platform,
        "ImageCreator": item.image_creator,
        "ImageSource": item.image_source,
        "SyncPercent": None,
        "IsSupportCloudinit": item.supports_cloudinit,
        "SnapshotSet": [],
        "Tags": [],
        "LicenseType": item.license_type,
    }


def vpc(item: Vpc) -> dict[str, Any]:
    return {
        "VpcName": item.name,
        "VpcId": item.vpc_id,
        "CidrBlock": item.cidr,
        "IsDefault": item.is_default,
        "EnableMulticast": False,
        "CreatedTime": item.created_time,
        "DnsServerSet": list(DNS_SERVERS),
        "DomainName": "",
        "DhcpOptionsId": "",
        "EnableDhcp": True,
        "Ipv6CidrBlock": "",
        "TagSet": _tag_set(item.tags),
        "AssistantCidrSet": [],
        "EnableRouteVpcPublish": False,
        "Ipv6CidrBlockSet": [],
    }


def subnet(item: Subnet) -> dict[str, Any]:
    pool = item.addresses
    return {
        "VpcId": item.vpc_id,
        "SubnetId": item.subnet_id,
        "SubnetName": item.name,
        "CidrBlock": item.cidr,
        "IsDefault": item.is_default,
        "EnableBroadcast": False,
        "Zone": item.zone,
        "RouteTableId": item.route_table_id,
        "CreatedTime": item.created_time,
        "AvailableIpAddressCount": pool.available,
        "Ipv6CidrBlock": "",
        "NetworkAclId": "",
        "IsRemoteVpcSnat": False,
        "TotalIpAddressCount": pool.network.num_addresses - RESERVED_PER_SUBNET,
        "TagSet": _tag_set(item.tags),
        "CdcId": "",
        "IsCdcSubnet": 0,
    }


def security_group(item: SecurityGroup) -> dict[str, Any]:
    return {
        "SecurityGroupId": item.security_group_id,
        "SecurityGroupName": item.name,
        "SecurityGroupDesc": item.description,
        "ProjectId": str(item.project_id),
        "IsDefault": item.is_default,
        "CreatedTime": item.created_time,
        "TagSet": _tag_set(item.tags),
        "UpdateTime": item.created_time,
    }


def _tag_set(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]
