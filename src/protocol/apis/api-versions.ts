/**
 * ApiVersions: which APIs, at which versions, this broker speaks. A client
 * sends it first on a new connection and picks, per API, the highest version
 * both sides speak. Version 0 of ApiVersions will always be spoken, so a
 * client refused with UNSUPPORTED_VERSION can fall back to it.
 *
 * ApiVersions Request (Version: 0) => (an empty map)
 *
 * ApiVersions Response (Version: 0) => errorCode apis
 *   errorCode => int16
 *   apis => [api minVersion maxVersion]
 *     api => string                    the name a request's `api` field carries
 *     minVersion => int16 ≥ 0
 *     maxVersion => int16 ≥ 0
 *
 * Kafka names the list apiKeys and identifies each API by a number; here APIs
 * are identified by name.
 */
import { array, int16, nonNegativeInt16, string, struct, type Infer } from '../check.js';
import { defineApi } from './api.js';

const request = struct({});

const response = struct({
  errorCode: int16,
  apis: array(struct({ api: string, minVersion: nonNegativeInt16, maxVersion: nonNegativeInt16 })),
});

export type ApiVersionsRequest = Infer<typeof request>;
export type ApiVersionsResponse = Infer<typeof response>;
export const apiVersionsApi = defineApi({ minVersion: 0, maxVersion: 0, request, response });
