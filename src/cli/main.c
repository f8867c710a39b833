#include <stdio.h>
#include "probevision/core.h"
int main(void) { pv_info("probevision"); return 0; }
