// IP addresses and prefixes live with the lists (ip: entries); this header
// keeps the gateway's include path.
#ifndef VIGIE_GATEWAY_BASE_IP_ADDRESS_H_
#define VIGIE_GATEWAY_BASE_IP_ADDRESS_H_
#include "lists/ip_address.h"
#endif  // VIGIE_GATEWAY_BASE_IP_ADDRESS_H_
