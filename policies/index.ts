// Entry point loaded by `pulumi preview --policy-pack policies`; starts the analyzer server.
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, packArgs } from "./pack";

new PolicyPack(PACK_NAME, packArgs);
