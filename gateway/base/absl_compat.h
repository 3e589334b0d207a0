// See lists/absl_compat.h (the lowest library that needs it).
#ifndef VIGIE_GATEWAY_BASE_ABSL_COMPAT_H_
#define VIGIE_GATEWAY_BASE_ABSL_COMPAT_H_
#include "lists/absl_compat.h"
#endif  // VIGIE_GATEWAY_BASE_ABSL_COMPAT_H_
