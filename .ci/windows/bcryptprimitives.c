/* Wine 8 has no bcryptprimitives.dll, and Rust's std (1.78+) on Windows takes its random
 * bytes (HashMap seeds) from bcryptprimitives!ProcessPrng. This stand-in forwards to
 * BCryptGenRandom with the system-preferred RNG, which Wine has. CI builds it with MinGW
 * and puts it in the Wine prefix's system32; real Windows (10 and later) has the real one. */
#include <windows.h>
#include <bcrypt.h>

#ifndef BCRYPT_USE_SYSTEM_PREFERRED_RNG
#define BCRYPT_USE_SYSTEM_PREFERRED_RNG 0x00000002
#endif

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE instance, DWORD reason, LPVOID reserved)
{
    (void)instance; (void)reason; (void)reserved;
    return TRUE;
}
