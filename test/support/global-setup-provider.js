// Jest globalSetup of the provider project: the serialized provider and `bao` (see global-setup.js).
"use strict";
module.exports = () => require("./global-setup").provision(["bao"]);
