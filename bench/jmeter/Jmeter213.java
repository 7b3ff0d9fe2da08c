import java.lang.reflect.Field;

/**
 * Starts Debian's JMeter 2.13 with XStream's type checks opened for its own save format. Debian ships JMeter 2.13
 * with XStream 1.4.20, whose default security denies every type JMeter 2.13 never allowed, so `jmeter -n -t plan.jmx`
 * fails with "ForbiddenClassException: org.apache.jmeter.save.ScriptWrapper" before it reads a plan. This grants the
 * two XStream instances of SaveService any type (the plans are our own files), then runs JMeter's NewDriver unchanged.
 */
public final class Jmeter213 {
    public static void main(String[] args) throws Exception {
        String home = System.getProperty("jmeter.home", "/usr/share/jmeter");
        Class<?> driver = Class.forName("org.apache.jmeter.NewDriver");
        Field loaderField = driver.getDeclaredField("loader");
        loaderField.setAccessible(true);
        ClassLoader loader = (ClassLoader) loaderField.get(null);
        Thread.currentThread().setContextClassLoader(loader);
        Class<?> utils = loader.loadClass("org.apache.jmeter.util.JMeterUtils");
        utils.getMethod("setJMeterHome", String.class).invoke(null, home);
        utils.getMethod("loadJMeterProperties", String.class).invoke(null, home + "/bin/jmeter.properties");
        Class<?> saveService = loader.loadClass("org.apache.jmeter.save.SaveService");
        Class<?> permission = loader.loadClass("com.thoughtworks.xstream.security.TypePermission");
        Object any = loader.loadClass("com.thoughtworks.xstream.security.AnyTypePermission").getField("ANY").get(null);
        for (Field field : saveService.getDeclaredFields()) {
            if (loader.loadClass("com.thoughtworks.xstream.XStream").isAssignableFrom(field.getType())) {
                field.setAccessible(true);
                Object xstream = field.get(null);
                xstream.getClass().getMethod("addPermission", permission).invoke(xstream, any);
            }
        }
        driver.getMethod("main", String[].class).invoke(null, (Object) args);
    }
}
