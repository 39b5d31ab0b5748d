# Builds markdown tables (CPU-time medians, wall medians in a second table) from bench-*.log
import re, sys
libs = [('num-bigint','num-bigint'),('dashu-int','dashu'),('malachite-nz','malachite'),('rug/GMP','gmp-bundled'),('rug1.19/sysGMP6.2.1','gmp-system')]
data = {}
for name, c in libs:
    for line in open(f'bench-{c}.log'):
        if line.startswith('RESULT'):
            f = line.rstrip('\n').split('\t')
            data[(f[1], f[2])] = (f[3].split('=')[1], f[4].split('=')[1])
def table(rows, idx):
    hdr = '| measurement | ' + ' | '.join(n for n,_ in libs) + ' |'
    out = [hdr, '|' + '---|' * (len(libs)+1)]
    for r in rows:
        out.append(f'| {r} | ' + ' | '.join(data.get((n, r), ('-','-'))[idx] for n,_ in libs) + ' |')
    return '\n'.join(out)
big = [f'mul {n}' for n in (10000,100000,1000000)] + [f'divrem {n}' for n in (10000,100000,1000000)] + ['to_string 100000','to_string 1000000','pi chudnovsky 10000','pi chudnovsky 100000']
small = ['small add objects','small mul objects','small add copy-in/out','small mul copy-in/out','small add copy-in/out scratch','small mul copy-in/out scratch','small add mpn slices','small mul mpn slices']
idx = 1 if len(sys.argv) > 1 and sys.argv[1] == 'wall' else 0
print(table(big, idx)); print(); print(table(small, idx))
